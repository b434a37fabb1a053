// Busy in words: while two other administrators flood the service with
// confirmations (its queue of expensive work full), boss's revocation is
// answered Busy and the page says when to try again; once the flood is
// over, the same confirmation screen revokes.
//
// Environment: CR_CONSOLE_PASSWORD.  Hook: flood (starts it in the
// background and returns while it is under way).

"use strict";

const { run, check } = require("./browser.js");
const { toRevokeList, toConfirm, waitNotice } = require("./flow.js");

const password = process.env.CR_CONSOLE_PASSWORD;

run("busy", async s => {
    await toRevokeList(s);
    await toConfirm(s, "gina");
    // the password first, so that the call goes while the flood lasts
    await s.fill("確認用パスワード", password, { secret: true });
    s.hook("flood");
    await s.click("button", "実行");
    const text = await waitNotice(s, "サービスが混み合っています。");
    check(/\d+秒後に再度お試しください。/.test(text), `when to try again: ${text}`);
    await s.expectText("証明書失効確認");
    // after the flood, as the message says: again
    const end = Date.now() + 20000;
    for (;;) {
        await new Promise(resolve => setTimeout(resolve, 2000));
        await s.fill("確認用パスワード", password, { secret: true });
        await s.click("button", "実行");
        await s.page.waitForFunction(() => !document.querySelector("button[type=submit][disabled]"),
                                     { timeout: 15000 }).catch(() => {});
        const shown = await s.text();
        if (shown.includes("以下の利用者の証明書が失効しました。"))
            break;
        check(Date.now() < end && shown.includes("サービスが混み合っています。"),
              `the revocation after the flood: ${shown}`);
    }
    await s.expectText("失効済");
});
