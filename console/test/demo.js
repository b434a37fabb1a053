// `make demo`: the three screens of a revocation in the console, a
// screenshot of each (and of the top page and the menu) in CR_CONSOLE_SHOTS.
//
// Environment: CR_CONSOLE_PASSWORD, CR_CONSOLE_SHOTS.

"use strict";

const { run } = require("./browser.js");

const password = process.env.CR_CONSOLE_PASSWORD;
const shots = process.env.CR_CONSOLE_SHOTS;

async function shot(s, name) {
    const file = `${shots}/${name}.png`;
    await s.screenshot(file);
    console.log(`  ${name}: ${(await s.page.title()) || "page"} saved`);
}

run("demo", async s => {
    await s.waitText("業務選択");
    await shot(s, "0-top");
    await s.click("button", "利用者管理");
    await s.waitText("利用者管理メニュー");
    await shot(s, "1-menu");
    await s.click("button", "証明書失効");
    await s.waitText("利用者を選択 ▶ 証明書失効 ▶ 失効完了");
    await s.click("radio", "schib を選択");
    await shot(s, "2-select-user");
    await s.click("button", "失効");
    await s.waitText("証明書失効確認");
    await s.select("失効理由", "superseded");
    await s.fill("確認用パスワード", password, { secret: true });
    await shot(s, "3-confirm");
    await s.click("button", "実行");
    await s.waitText("以下の利用者の証明書が失効しました。");
    await shot(s, "4-result");
});
