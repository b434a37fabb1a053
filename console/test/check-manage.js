// The rest of the menu, as the master user boss: search, add, change the
// role of and remove users (利用者情報の管理); suspend and resume
// (利用者停止・解除); change one's own confirmation password and set
// another user's (パスワード変更); the history with filters by user and date.
//
// Environment: CR_CONSOLE_PASSWORD (boss's), CR_NEW_PASSWORD (boss's next),
// CR_GINA_PASSWORD (what boss sets for gina).

"use strict";

const { run, check, equal } = require("./browser.js");
const { notice } = require("./flow.js");

const password = process.env.CR_CONSOLE_PASSWORD;
const newPassword = process.env.CR_NEW_PASSWORD;
const ginaPassword = process.env.CR_GINA_PASSWORD;

async function logins(s) {
    return s.page.$$eval("tr[data-login]", trs => trs.map(t => t.dataset.login).join(" "));
}

async function waitNotice(s, text) {
    await s.waitText(text);
    const seen = await notice(s);
    check(seen.includes(text), `the message says "${text}": ${seen}`);
}

// A date field of the form, as a person picks a day.
async function setDate(s, id, day) {
    await s.page.$eval(`#${id}`, (el, v) => {
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
        setter.call(el, v);
        el.dispatchEvent(new Event("input", { bubbles: true }));
    }, day);
}

async function manageUsers(s) {
    await s.click("button", "利用者情報の管理");
    await s.waitText("登録利用者");
    equal("boss gina", await logins(s), "the users listed");
    await s.fill("ログインIDまたは利用者名で検索", "Gin");
    await s.waitRow("boss", r => r === null, "filtered out");
    equal("gina", await logins(s), "the search by name");
    await s.fill("ログインIDまたは利用者名で検索", "");

    await s.fill("ログインID", "newbie");
    await s.fill("利用者名", "新人 太郎");
    await s.select("利用者区分", "general");
    await s.page.type("#cr-add-uid", "1005");
    await s.click("button", "追加");
    await waitNotice(s, "利用者 newbie を追加しました。");
    await s.waitRow("newbie", r => r && r.includes("新人 太郎"), "listed");

    await s.select("newbie の利用者区分", "worker");
    await s.click("button", "newbie の利用者区分を変更");
    await waitNotice(s, "newbie の利用者区分をワーカーユーザに変更しました。");
    // the row as the service now has it: the field is drawn anew from it
    await s.page.waitForFunction(() => {
        const row = document.querySelector("tr[data-login=newbie]");
        return row && row.querySelector("select").value === "worker" &&
            !row.querySelector("button:not([disabled])[aria-label$='を変更']");
    }, { timeout: 10000 }).catch(() => { throw new Error("newbie's role did not become worker in the list") });

    await s.click("button", "newbie を削除");
    await s.waitText("利用者 newbie（新人 太郎）を削除しますか？");
    await s.page.locator("div[role=dialog] button.pf-m-danger").click();
    await waitNotice(s, "利用者 newbie を削除しました。");
    await s.waitRow("newbie", r => r === null, "gone");
    await s.click("button", "戻る");
}

async function suspendAndResume(s) {
    await s.click("button", "利用者停止・解除");
    await s.waitRow("gina", r => r && r.includes("利用中"), "利用中");
    await s.click("button", "gina を停止");
    await s.waitText("gina（Gina General）のサービスを停止しますか？");
    await s.fill("確認用パスワード", password, { secret: true });
    await s.page.locator("div[role=dialog] button.pf-m-danger").click();
    await waitNotice(s, "gina のサービスを停止しました。");
    await s.waitRow("gina", r => r && r.includes("停止中"), "停止中");
    await s.click("button", "gina の停止を解除");
    await s.fill("確認用パスワード", password, { secret: true });
    await s.page.keyboard.press("Enter");
    await waitNotice(s, "gina の停止を解除しました。");
    await s.waitRow("gina", r => r && r.includes("利用中"), "利用中 again");
    await s.click("button", "戻る");
}

async function passwords(s) {
    await s.click("button", "パスワード変更");
    await s.waitText("ご自身の確認用パスワード");
    await s.fill("現在の確認用パスワード", password, { secret: true });
    await s.fill("新しい確認用パスワード", newPassword, { secret: true });
    await s.fill("新しい確認用パスワード（再入力）", newPassword, { secret: true });
    await s.page.locator("form[aria-labelledby=cr-own-title] button[type=submit]").click();
    await waitNotice(s, "確認用パスワードを変更しました。");
    const values = await s.page.$$eval("input[type=password]", els => els.map(e => e.value).join(""));
    equal("", values, "the password fields after the change");

    await s.select("利用者", "gina");
    await s.page.type("#cr-set-password", ginaPassword);
    await s.page.type("#cr-set-password2", ginaPassword);
    await s.page.type("#cr-set-mine", newPassword);
    await s.page.locator("form[aria-labelledby=cr-other-title] button[type=submit]").click();
    await waitNotice(s, "gina の確認用パスワードを設定しました。");
    await s.click("button", "戻る");
}

async function history(s) {
    await s.click("button", "トップページへ");
    await s.click("button", "操作履歴問合せ");
    await s.waitText("新しい順");
    const all = await s.page.$eval("table.cr-history-table", t => t.innerText);
    for (const want of ["add-user", "newbie", "set-role", "remove-user", "suspend", "resume"])
        check(all.includes(want), `the history shows ${want}: ${all}`);
    check(/\d{4}年\d{2}月\d{2}日 \d{2}時\d{2}分\d{2}秒/.test(all), "the times in the product's form");

    await s.select("利用者", "gina");
    await s.click("button", "検索");
    await s.waitNoText("newbie");
    const rows = await s.page.$$eval("table.cr-history-table tbody tr", trs => trs.map(t => t.innerText));
    check(rows.length > 0 && rows.every(r => r.includes("gina")), `only gina's rows: ${rows.join(" | ")}`);

    await setDate(s, "cr-history-from", "2099-01-01");
    await s.click("button", "検索");
    await s.waitText("該当する履歴はありません。");
    await setDate(s, "cr-history-from", "");
    await setDate(s, "cr-history-until", "2000-01-01");
    await s.click("button", "検索");
    await s.waitText("該当する履歴はありません。");
}

run("manage", async s => {
    await s.waitText("業務選択");
    await s.click("button", "利用者管理");
    await manageUsers(s);
    await suspendAndResume(s);
    await passwords(s);
    await history(s);
});
