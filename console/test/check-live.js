// The list follows changes live: another administrator's revocation and a
// user added meanwhile show without a reload of the page.
//
// Hooks: other-admin-revokes (gina's certificate), other-admin-adds (newbie).

"use strict";

const { run, check } = require("./browser.js");
const { toRevokeList } = require("./flow.js");

run("live", async s => {
    await toRevokeList(s);
    await s.waitRow("gina", r => r && r.includes("発行済"), "発行済");
    await s.click("radio", "gina を選択");
    // a mark that a reload would wipe
    await s.page.evaluate(() => { window.crNotReloaded = true });

    s.hook("other-admin-revokes");
    const row = await s.waitRow("gina", r => r && r.includes("失効済"), "失効済 without a reload", 10000);
    check(row.split("\t")[5] === "-", `no expiry for a revoked certificate: ${row}`);
    check((await s.radio("gina")).disabled, "gina's row can no longer be chosen");
    check(await s.page.$eval("::-p-aria([name=\"失効\"][role=\"button\"])", b => b.disabled),
          "失効 is off once the chosen certificate is gone");

    s.hook("other-admin-adds");
    await s.waitRow("newbie", r => r && r.includes("新人"), "listed", 10000);
    check(await s.page.evaluate(() => window.crNotReloaded === true), "the page was reloaded");
});
