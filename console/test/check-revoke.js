// The product's flow as an administrator, in Japanese: top page, user
// management menu, 利用者一覧, 証明書失効確認, 証明書失効結果, and each link
// of the result screen.  The password stays in the field and the call.
//
// Environment: CR_CONSOLE_PASSWORD (the administrator's confirmation
// password), CR_EXPECT_EXPIRY (sachiboh2's expiry as the page must show it),
// CR_CONSOLE_SHOTS (a directory: a screenshot of each step goes there).

"use strict";

const { run, check, equal } = require("./browser.js");

const password = process.env.CR_CONSOLE_PASSWORD;
const expiry = process.env.CR_EXPECT_EXPIRY;
const shots = process.env.CR_CONSOLE_SHOTS || "";
const DATE = /^\d{4}年\d{2}月\d{2}日 \d{2}時\d{2}分\d{2}秒$/;

async function shot(s, name) {
    if (shots)
        await s.screenshot(`${shots}/${name}.png`);
}

async function selectAndConfirm(s, login) {
    await s.waitText("利用者を選択 ▶ 証明書失効 ▶ 失効完了");
    await s.click("radio", `${login} を選択`);
    await s.click("button", "失効");
    await s.waitText("証明書失効確認");
}

async function execute(s, reason) {
    if (reason)
        await s.select("失効理由", reason);
    await s.fill("確認用パスワード", password, { secret: true });
    await s.click("button", "実行");
    await s.waitText("以下の利用者の証明書が失効しました。");
}

// Nothing of the password anywhere the browser keeps or shows things.
async function expectPasswordGone(s) {
    const kept = await s.page.evaluate(() => {
        const all = [location.href, document.cookie, document.body.innerHTML];
        for (const store of [localStorage, sessionStorage])
            for (let i = 0; i < store.length; i++)
                all.push(store.key(i), store.getItem(store.key(i)));
        for (const input of document.querySelectorAll("input"))
            all.push(input.value);
        return all.join("\n");
    });
    check(!kept.includes(password), "the confirmation password is still in the page, its URL, cookies or storage");
    check(!s.log.join("\n").includes(password), "the confirmation password is in the browser's console log");
    check(!s.requests.some(u => u.includes(password)), "the confirmation password was in a request's URL");
}

run("revoke", async s => {
    // the top page, as the product's 業務選択
    await s.waitText("業務選択");
    await s.expectText("sachiboh（管理者ユーザ）でログイン中");
    await s.expectText("操作履歴問合せ");
    await shot(s, "0-top");
    await s.click("button", "利用者管理");
    await s.waitText("利用者管理メニュー");
    for (const entry of ["パスワード変更", "利用者情報の管理", "利用者停止・解除", "証明書失効"])
        await s.control("button", entry).waitHandle();
    await s.click("button", "証明書失効");

    // 利用者一覧
    await s.waitText("利用者一覧");
    equal("利用者管理 利用者一覧", await s.crumbs(), "the path");
    await s.expectText("証明書の失効を行う利用者を選択の上、「失効」ボタンを押してください。");
    const header = await s.page.$eval("table.cr-user-table thead", t => t.innerText.replace(/\s+/g, " ").trim());
    equal("選択 ログインID 利用者名 利用者区分 証明書状態 証明書有効期限", header, "the list's columns");
    const rows = {
        sachiboh2: ["ゲータ妻子", "一般ユーザ", "発行済"],
        schiboh: ["ゲータ一郎", "一般ユーザ", "無効期限切れ"],
        jinoh: ["ゲータ二郎", "一般ユーザ", "未発行"],
        schiboh3: ["ゲータ三郎", "ワーカーユーザ", "失効済"],
        schib: ["ゲータ太郎", "一般ユーザ", "更新済"],
        sachiboh: ["ゲータチ子", "管理者ユーザ", "発行済"],
    };
    for (const [login, [name, role, state]] of Object.entries(rows)) {
        const cells = (await s.row(login) || "").split("\t");
        equal(`${login}|${name}|${role}|${state}`, cells.slice(1, 5).join("|"), `the row of ${login}`);
        const revocable = state === "発行済" || state === "更新済";
        check(revocable ? DATE.test(cells[5]) : cells[5] === "-",
              `${login}'s expiry must be ${revocable ? "a date" : "-"}: ${cells[5]}`);
        const radio = await s.radio(login);
        equal(!revocable, radio.disabled, `${login}'s radio disabled`);
    }
    equal(expiry, (await s.row("sachiboh2")).split("\t")[5], "sachiboh2's expiry");
    check(await s.page.$eval("::-p-aria([name=\"失効\"][role=\"button\"])", b => b.disabled),
          "失効 must wait for a choice");
    await shot(s, "1-select");

    // 証明書失効確認
    await selectAndConfirm(s, "sachiboh2");
    await s.expectText("利用者を選択 ▶ 証明書失効 ▶ 失効完了");
    await s.expectText("以下の利用者の証明書を失効します。");
    await s.expectText("※必ず確認入力項目です。");
    const details = await s.page.$eval("#cr-target-title", h => h.parentElement.innerText);
    for (const want of ["証明書失効の対象利用者", "ログインID\nsachiboh2", "利用者名\nゲータ妻子", "証明書状態\n発行済",
        `証明書有効期限\n${expiry}`])
        check(details.includes(want), `the confirmation shows "${want}": ${details}`);
    equal("password", await s.page.$eval("#cr-password", i => i.type), "the password field is masked");
    check(await s.page.$eval("#cr-password", i => i.required), "the password is required");
    equal("unspecified", await s.page.$eval("#cr-reason", i => i.value), "the default reason");
    // 実行 without a password asks for one and calls nothing
    await s.click("button", "実行");
    await s.waitText("パスワードを入力してください。");
    await s.select("失効理由", "keyCompromise");
    await s.fill("確認用パスワード", password, { secret: true });
    await shot(s, "2-confirm");
    await s.click("button", "実行");

    // 証明書失効結果
    await s.waitText("以下の利用者の証明書が失効しました。");
    const result = await s.page.$eval("#cr-result-title", h => h.parentElement.innerText);
    for (const want of ["証明書失効の結果", "ログインID\nsachiboh2", "利用者名\nゲータ妻子", "証明書状態\n失効済"])
        check(result.includes(want), `the result shows "${want}": ${result}`);
    await s.expectText("証明書失効結果");
    await expectPasswordGone(s);
    await shot(s, "3-result");

    // 利用者一覧へ: the list shows the revocation
    await s.click("button", "利用者一覧へ");
    const row = await s.waitRow("sachiboh2", r => r && r.includes("失効済"), "失効済");
    equal("-", row.split("\t")[5], "a revoked certificate has no expiry shown");
    check((await s.radio("sachiboh2")).disabled, "a revoked row cannot be chosen");

    // a renewed certificate, then トップページへ
    await selectAndConfirm(s, "schib");
    await execute(s, "superseded");
    await s.click("button", "トップページへ");
    await s.waitText("業務選択");

    // the administrator's own certificate, then 利用者管理メニューへ
    await s.click("button", "利用者管理");
    await s.click("button", "証明書失効");
    await selectAndConfirm(s, "sachiboh");
    await execute(s, "");
    await s.click("button", "利用者管理メニューへ");
    await s.waitText("利用者管理メニュー");
    await expectPasswordGone(s);

    // nothing came from anywhere but the Cockpit serving the page
    const origin = new URL(s.env.url).origin;
    const foreign = s.requests.filter(u => !u.startsWith(origin) && !u.startsWith("data:"));
    check(foreign.length === 0, `requests to elsewhere: ${foreign.join(" ")}`);
});
