// The package as Cockpit and a fresh machine meet it, without a browser:
// the manifest, the page's files and what they load, the lock file against
// package.json, and Node 18 admitted by every npm package used.
//
//   node check-package.js BUILT-PAGE-DIR

"use strict";

const fs = require("fs");
const path = require("path");

const consoleDir = path.join(__dirname, "..");
const built = process.argv[2];
const problems = [];

function problem(text) {
    problems.push(text);
}

function readJson(file) {
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

function checkManifest() {
    const manifest = readJson(path.join(built, "manifest.json"));
    if (!manifest.menu || !manifest.menu.index || !manifest.menu.index.label)
        problem("manifest.json has no menu entry for index.html");
}

// The page loads Cockpit's API from the Cockpit serving it, its
// translations as po.js, and its own bundle; nothing from elsewhere.
function checkPage() {
    const html = fs.readFileSync(path.join(built, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map(m => m[1]);
    const want = ["../base1/cockpit.js", "po.js", "index.js"];
    if (JSON.stringify(scripts) !== JSON.stringify(want))
        problem(`index.html loads ${scripts.join(", ")}, not ${want.join(", ")}`);
    if (/(src|href)="(https?:)?\/\//.test(html))
        problem("index.html loads something from another host");
    const css = fs.readFileSync(path.join(built, "index.css"), "utf8");
    for (const m of css.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) {
        const url = m[1];
        if (url.startsWith("data:"))
            continue;
        if (/^(https?:)?\/\//.test(url))
            problem(`index.css loads ${url} from another host`);
        else if (!fs.existsSync(path.join(built, url.split(/[?#]/)[0])))
            problem(`index.css names ${url}, which the package lacks`);
    }
    const po = fs.readFileSync(path.join(built, "po.ja.js"), "utf8");
    if (!po.startsWith("cockpit.locale({\"\":{\"plural-forms\":n => (0),"))
        problem("po.ja.js is not a Japanese cockpit.locale() call");
}

function checkLock() {
    const pkg = readJson(path.join(consoleDir, "package.json"));
    const lock = readJson(path.join(consoleDir, "package-lock.json"));
    const root = lock.packages && lock.packages[""];
    if (!root)
        problem("package-lock.json has no root package: lockfileVersion 2 or 3 expected");
    for (const field of ["dependencies", "devDependencies"]) {
        const a = JSON.stringify(pkg[field] || {});
        const b = JSON.stringify((root && root[field]) || {});
        if (a !== b)
            problem(`package-lock.json's ${field} are not package.json's: ${b} / ${a}`);
    }
}

// Whether a range of engines.node admits Node 18 (the lowest the project
// supports, Debian 12's): enough of semver for what packages write.
function admits18(range) {
    return range.split("||").some(alt => {
        // ">= 14" is ">=14"
        const parts = alt.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/).filter(Boolean);
        return parts.every(p => {
            const m = /^(>=|>|<=|<|\^|~|=)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(p);
            if (!m)
                return p === "*" || p === "x";
            const [major, minor] = [Number(m[2]), Number(m[3]) || 0];
            switch (m[1]) {
            case ">=": return major < 18 || (major === 18 && minor <= 20);
            case ">": return major < 18;
            case "<": return major > 18;
            case "<=": return major >= 18;
            case "^": case "~": case "=": case undefined: return major === 18;
            default: return true;
            }
        });
    });
}

function checkEngines() {
    const lock = readJson(path.join(consoleDir, "package-lock.json"));
    for (const [where, entry] of Object.entries(lock.packages || {})) {
        if (!where || !entry.engines || !entry.engines.node)
            continue;
        if (!admits18(entry.engines.node))
            problem(`${where} needs node ${entry.engines.node}, more than Node 18`);
    }
}

checkManifest();
checkPage();
checkLock();
checkEngines();
if (problems.length) {
    for (const p of problems)
        console.error(`check-package: ${p}`);
    process.exit(1);
}
console.log("check-package: ok");
