// Errors where they happen, in words: a wrong password with the tries left,
// the lock after five (RateLimited, with when to try again), and a
// certificate renewed while the confirmation screen was open
// (CertificateChanged: the new certificate shown, back to confirming).
//
// Environment: CR_CONSOLE_PASSWORD (boss's confirmation password),
// CR_NEW_SERIAL (the serial gina's renewed certificate will have).
// Hook: renew-gina (puts gina's new certificate in place).

"use strict";

const { run, check, equal } = require("./browser.js");
const { toRevokeList, toConfirm, execute, waitNotice } = require("./flow.js");

const password = process.env.CR_CONSOLE_PASSWORD;
const newSerial = process.env.CR_NEW_SERIAL;

run("errors", async s => {
    await toRevokeList(s);
    await toConfirm(s, "gina");
    const oldSerial = await s.page.$eval("#cr-target-title", h => h.parentElement.innerText);

    // wrong, twice: the tries left count down; the field is emptied
    await execute(s, "wrong-guess-1");
    let text = await waitNotice(s, "あと4回失敗すると");
    check(text.includes("確認用パスワードが正しくありません。"), `the message of a wrong password: ${text}`);
    equal("", await s.page.$eval("#cr-password", i => i.value), "the password field after a failure");
    await s.expectText("証明書失効確認");
    await execute(s, "wrong-guess-2");
    await waitNotice(s, "あと3回失敗すると");

    // the certificate is renewed meanwhile: the page names the new one
    s.hook("renew-gina");
    await execute(s, password);
    text = await waitNotice(s, "利用者の証明書が変わりました");
    const details = await s.page.$eval("#cr-target-title", h => h.parentElement.innerText);
    check(details.toUpperCase().includes(newSerial.toUpperCase()), `the confirmation shows the new serial ${newSerial}: ${details}`);
    check(details !== oldSerial, "the confirmation changed");
    await s.expectText("証明書失効確認");
    equal("", await s.page.$eval("#cr-password", i => i.value), "the password field after CertificateChanged");
    // confirmed again: the new certificate is revoked
    await execute(s, password);
    await s.waitText("以下の利用者の証明書が失効しました。");
    await s.expectText("失効済");

    // five wrong in a row lock boss out; then even the right one waits
    await s.click("button", "利用者一覧へ");
    await toConfirm(s, "gene");
    for (let i = 1; i <= 4; i++) {
        await execute(s, `wrong-again-${i}`);
        await waitNotice(s, `あと${5 - i}回失敗すると`);
    }
    await execute(s, "wrong-again-5");
    text = await waitNotice(s, "残りの試行回数はありません");
    await execute(s, password);
    text = await waitNotice(s, "ロックされています");
    check(/15分後（\d{2}:\d{2}以降）に再度お試しください。/.test(text), `when to try again: ${text}`);
    await s.expectText("証明書失効確認");
});
