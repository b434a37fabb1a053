// The whole flow by keyboard alone, in English (Cockpit's language set to
// English), with every control on each screen named for a screen reader.
//
// Environment: CR_CONSOLE_PASSWORD.

"use strict";

const { run, check, equal } = require("./browser.js");

const password = process.env.CR_CONSOLE_PASSWORD;

// The accessible name of the focused element, as far as a page can tell.
function focusedName(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body)
            return "";
        if (el.getAttribute("aria-label"))
            return el.getAttribute("aria-label");
        if (el.labels && el.labels.length)
            return el.labels[0].innerText.replace(/\s*\*\s*$/, "").trim();
        return el.innerText.trim();
    });
}

// Tab (forward only) until the named control has the focus.
async function tabTo(s, name) {
    for (let i = 0; i < 80; i++) {
        await s.page.keyboard.press("Tab");
        if (await focusedName(s.page) === name)
            return;
    }
    throw new Error(`"${name}" cannot be reached with Tab`);
}

run("keyboard", async s => {
    await s.waitText("Select a task");
    await s.expectAllLabelled("the top page");
    await tabTo(s, "User management");
    await s.page.keyboard.press("Enter");
    await s.waitText("User management menu");
    await s.expectAllLabelled("the menu");
    await tabTo(s, "Certificate revocation");
    await s.page.keyboard.press("Enter");

    await s.waitText("Select user ▶ Revoke certificate ▶ Revocation complete");
    const header = await s.page.$eval("table.cr-user-table thead", t => t.innerText.replace(/\s+/g, " ").trim());
    equal("Select Login ID User name User role Certificate state Certificate expiry", header, "the columns in English");
    const row = (await s.row("gina")).split("\t");
    equal("gina|Gina General|General user|Issued", row.slice(1, 5).join("|"), "gina's row in English");
    check(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(row[5]), `an English date: ${row[5]}`);
    await s.expectAllLabelled("the user list");
    await tabTo(s, "Select gina");
    await s.page.keyboard.press("Space");
    check((await s.radio("gina")).checked, "Space chose gina");
    await tabTo(s, "Revoke");
    await s.page.keyboard.press("Enter");

    await s.waitText("Certificate revocation confirmation");
    await s.expectText("The certificate of the following user will be revoked.");
    await s.expectAllLabelled("the confirmation");
    await tabTo(s, "Revocation reason");
    await s.page.keyboard.press("ArrowDown");   // keyCompromise, next to unspecified
    equal("keyCompromise", await s.page.$eval("#cr-reason", e => e.value), "the reason chosen by keyboard");
    await tabTo(s, "Confirmation password");
    await s.page.keyboard.type(password);
    s.note("typed the password (hidden)");
    await s.page.keyboard.press("Enter");

    await s.waitText("The certificate of the following user was revoked.");
    const result = await s.page.$eval("#cr-result-title", h => h.parentElement.innerText);
    check(result.includes("Certificate state\nRevoked"), `the result in English: ${result}`);
    await s.expectAllLabelled("the result");
    await tabTo(s, "To the user list");
    await s.page.keyboard.press("Enter");
    await s.waitRow("gina", r => r && r.includes("Revoked"), "Revoked");
});
