// Steps several console checks share: from the top page to the revocation
// list, and from the list to the confirmation screen.

"use strict";

async function toRevokeList(s) {
    await s.waitText("業務選択");
    await s.click("button", "利用者管理");
    await s.click("button", "証明書失効");
    await s.waitText("利用者を選択 ▶ 証明書失効 ▶ 失効完了");
}

async function toConfirm(s, login) {
    await s.click("radio", `${login} を選択`);
    await s.click("button", "失効");
    await s.waitText("証明書失効確認");
}

async function execute(s, password) {
    await s.fill("確認用パスワード", password, { secret: true });
    await s.click("button", "実行");
}

// The text of the message box (Alert) shown last, "" when none.
async function notice(s) {
    return s.page.$$eval(".cr-notice", els => (els.length ? els[els.length - 1].innerText.trim() : ""));
}

async function waitNotice(s, needle) {
    await s.waitText(needle);
    return notice(s);
}

module.exports = { toRevokeList, toConfirm, execute, notice, waitNotice };
