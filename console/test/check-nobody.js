// A logged-in account whose UID is no certrevoke user is told so, and
// offered nothing.

"use strict";

const { run, check } = require("./browser.js");

run("nobody", async s => {
    await s.waitText("証明書失効サービスの利用者ではありません");
    const buttons = await s.page.$$eval("button", bs => bs.map(b => b.innerText.trim()).filter(t => t));
    check(buttons.length === 0, `nothing offered: ${buttons.join(", ")}`);
});
