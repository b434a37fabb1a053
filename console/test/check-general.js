// A general user in the console: no 証明書失効 and no 利用者停止・解除 in the
// menu, their own row only in the user list, their own history only.
//
// Environment: CR_OWN_LOGIN, CR_OWN_ROLE (the role as the page names it),
// CR_OTHER_LOGIN (a user they must not see).

"use strict";

const { run, check } = require("./browser.js");

const own = process.env.CR_OWN_LOGIN;
const other = process.env.CR_OTHER_LOGIN;
const role = process.env.CR_OWN_ROLE;

run("general", async s => {
    await s.waitText("業務選択");
    await s.expectText(`${own}（${role}）でログイン中`);
    await s.click("button", "利用者管理");
    await s.waitText("利用者管理メニュー");
    await s.control("button", "パスワード変更").waitHandle();
    await s.control("button", "利用者情報の管理").waitHandle();
    await s.expectNoText("証明書失効");
    await s.expectNoText("利用者停止・解除");
    const buttons = await s.page.$$eval("button", bs => bs.map(b => b.innerText.trim()));
    check(!buttons.includes("証明書失効"), `no 証明書失効 button: ${buttons.join(", ")}`);

    await s.click("button", "利用者情報の管理");
    await s.waitRow(own, r => r && r.includes(role), "shown");
    const logins = await s.page.$$eval("tr[data-login]", trs => trs.map(t => t.dataset.login));
    check(logins.length === 1 && logins[0] === own, `only their own row: ${logins.join(", ")}`);
    await s.expectNoText(other);
    await s.expectNoText("利用者の追加");

    await s.click("button", "戻る");
    await s.click("button", "パスワード変更");
    await s.waitText("ご自身の確認用パスワード");
    await s.expectNoText("他の利用者の確認用パスワード");
});
