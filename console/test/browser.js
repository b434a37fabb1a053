// Headless Chromium on the console, for the integration tests and the demo:
// starts the browser with Cockpit's language chosen, keeps the page's
// console and every request, and finds things the way a user does, by the
// words on the screen and the names of the controls.

"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const puppeteer = require("puppeteer-core");

const TIMEOUT_MS = Number(process.env.CR_CONSOLE_TIMEOUT_MS || 15000);

class Session {
    constructor(browser, page, env) {
        this.browser = browser;
        this.page = page;
        this.env = env;
        this.log = [];
        this.requests = [];
    }

    note(line) {
        this.log.push(`${new Date().toISOString()} ${line}`);
    }

    // The page's text as a user reads it.
    async text() {
        return this.page.evaluate(() => document.body.innerText);
    }

    async waitText(needle, timeout = TIMEOUT_MS) {
        try {
            await this.page.waitForFunction(n => document.body.innerText.includes(n), { timeout, polling: 100 }, needle);
        } catch (err) {
            throw new Error(`the page never showed "${needle}" (${timeout} ms); it shows:\n${await this.text()}`);
        }
    }

    async waitNoText(needle, timeout = TIMEOUT_MS) {
        try {
            await this.page.waitForFunction(n => !document.body.innerText.includes(n), { timeout, polling: 100 }, needle);
        } catch (err) {
            throw new Error(`the page still shows "${needle}" after ${timeout} ms:\n${await this.text()}`);
        }
    }

    async expectText(needle) {
        const text = await this.text();
        if (!text.includes(needle))
            throw new Error(`the page does not show "${needle}"; it shows:\n${text}`);
    }

    async expectNoText(needle) {
        const text = await this.text();
        if (text.includes(needle))
            throw new Error(`the page shows "${needle}" and must not; it shows:\n${text}`);
    }

    // A control by its role and accessible name, as assistive technology
    // (and a person) finds it.
    control(role, name) {
        return this.page.locator(`::-p-aria([name=${JSON.stringify(name)}][role="${role}"])`).setTimeout(TIMEOUT_MS);
    }

    async click(role, name) {
        this.note(`click ${role} "${name}"`);
        await this.control(role, name).click();
    }

    async fill(name, value, { secret = false } = {}) {
        this.note(`fill "${name}"${secret ? " (hidden)" : ""}`);
        const input = await this.control("textbox", name).waitHandle();
        await input.click({ count: 3 });
        await input.press("Backspace");
        await input.type(value);
    }

    async select(name, value) {
        this.note(`select "${name}" = ${value}`);
        const handle = await this.control("combobox", name).waitHandle();
        await handle.select(value);
    }

    // The path above the title (利用者管理 > 利用者一覧), words by spaces.
    async crumbs() {
        return this.page.$eval("nav.pf-v5-c-breadcrumb", n => n.innerText.replace(/\s+/g, " ").trim());
    }

    // The text of the table row of a login (data-login), cells by tabs.
    async row(login) {
        return this.page.$eval(`tr[data-login=${JSON.stringify(login)}]`,
                               tr => [...tr.cells].map(c => c.innerText.trim()).join("\t"))
                .catch(() => null);
    }

    async waitRow(login, predicate, what, timeout = TIMEOUT_MS) {
        const end = Date.now() + timeout;
        let row = null;
        while (Date.now() < end) {
            row = await this.row(login);
            if (predicate(row))
                return row;
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        throw new Error(`the row of ${login} never became ${what}: ${row}`);
    }

    async radio(login) {
        return this.page.$eval(`tr[data-login=${JSON.stringify(login)}] input[type=radio]`,
                               r => ({ checked: r.checked, disabled: r.disabled, name: r.getAttribute("aria-label") }));
    }

    async screenshot(file) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        await this.page.screenshot({ path: file, fullPage: true });
    }

    // Runs a step of the test's world (tests write it as a shell script).
    hook(name, ...args) {
        const script = this.env.hook;
        if (!script)
            throw new Error(`no hook script for "${name}"`);
        this.note(`hook ${name}`);
        const out = execFileSync("bash", [script, name, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        if (out.trim())
            this.note(`hook ${name}: ${out.trim()}`);
        return out;
    }

    // Every input, select and button on the screen has a name a screen
    // reader can say: the labels of the form are tied to their fields.
    async unlabelled() {
        const tree = await this.page.accessibility.snapshot({ interestingOnly: false });
        const bad = [];
        const walk = node => {
            if (["textbox", "combobox", "radio", "button", "checkbox", "searchbox", "spinbutton", "link"].includes(node.role) &&
                !(node.name && node.name.trim()))
                bad.push(node.role);
            (node.children || []).forEach(walk);
        };
        walk(tree);
        return bad;
    }

    async expectAllLabelled(where) {
        const bad = await this.unlabelled();
        if (bad.length)
            throw new Error(`${where}: controls without a name: ${bad.join(", ")}`);
    }
}

function environment() {
    const url = process.env.CR_CONSOLE_URL;
    if (!url)
        throw new Error("CR_CONSOLE_URL is not set");
    return {
        url,
        lang: process.env.CR_CONSOLE_LANG || "ja",
        chromium: process.env.CR_CHROMIUM || "/usr/bin/chromium",
        artifacts: process.env.CR_CONSOLE_ARTIFACTS || "",
        hook: process.env.CR_CONSOLE_HOOK || "",
    };
}

async function open(env) {
    const origin = new URL(env.url).origin;
    const args = ["--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", `--lang=${env.lang}`,
        "--window-size=1280,1000", "--password-store=basic"];
    // root has no sandbox to give up; an ordinary user keeps it
    if (process.getuid && process.getuid() === 0)
        args.push("--no-sandbox");
    const browser = await puppeteer.launch({
        executablePath: env.chromium,
        headless: true,
        args,
        userDataDir: process.env.CR_CONSOLE_PROFILE || undefined,
    });
    const page = await browser.newPage();
    const session = new Session(browser, page, env);
    await page.setViewport({ width: 1280, height: 1000 });
    page.on("console", m => session.note(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", e => session.note(`pageerror: ${e.message}`));
    page.on("requestfailed", r => session.note(`requestfailed: ${r.url()} ${r.failure() && r.failure().errorText}`));
    page.on("request", r => session.requests.push(r.url()));
    // Cockpit's language setting, as its login page and shell keep it.
    await page.setCookie({ name: "CockpitLang", value: env.lang === "ja" ? "ja-jp" : "en-us", url: origin });
    session.note(`open ${env.url} (${env.lang})`);
    await page.goto(env.url, { waitUntil: "load" });
    return session;
}

// Runs fn(session); on failure keeps a screenshot and the page's console
// log in the artifacts directory and fails.
async function run(name, fn) {
    const env = environment();
    let session = null;
    let failure = null;
    try {
        session = await open(env);
        await fn(session);
    } catch (err) {
        failure = err;
    }
    if (session && env.artifacts) {
        try {
            if (failure)
                await session.screenshot(`${env.artifacts}.png`);
        } catch (err) {
            session.note(`no screenshot: ${err.message}`);
        }
        fs.mkdirSync(path.dirname(env.artifacts), { recursive: true });
        fs.writeFileSync(`${env.artifacts}.console.log`, session.log.join("\n") + "\n");
    }
    if (session)
        await session.browser.close().catch(() => {});
    if (failure) {
        console.error(`${name}: FAILED: ${failure.stack || failure.message}`);
        if (env.artifacts)
            console.error(`${name}: kept ${env.artifacts}.png and ${env.artifacts}.console.log`);
        process.exit(1);
    }
    console.log(`${name}: ok`);
}

function check(condition, message) {
    if (!condition)
        throw new Error(message);
}

function equal(expected, seen, what) {
    if (expected !== seen)
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, seen ${JSON.stringify(seen)}`);
}

module.exports = { run, check, equal, Session };
