// The page in Cockpit's shell: its menu entry under the name the language
// gives it, and the page in the shell's frame.
//
// Environment: CR_CONSOLE_URL is the shell's address of the page;
// CR_EXPECT_LABEL the menu entry's name.

"use strict";

const { run, check } = require("./browser.js");

run("shell", async s => {
    const label = process.env.CR_EXPECT_LABEL;
    await s.page.waitForSelector("iframe[name$='certrevoke']", { timeout: 20000 });
    await s.waitText(label, 20000);
    const frame = await s.page.waitForFrame(f => f.url().includes("/certrevoke/index.html"), { timeout: 20000 })
            .catch(() => null);
    check(frame, `no frame of the page: ${s.page.frames().map(f => f.url()).join(" ")}`);
    await frame.waitForFunction(() => document.body && document.body.innerText.length > 0, { timeout: 20000 });
});
