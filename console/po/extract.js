// Lists the strings the page translates: every _("…") and N_("…") in src/,
// one JSON string a line.  `node po/extract.js --check po/ja.po` fails
// naming each one the catalogue lacks, and each entry no source uses.

"use strict";

const fs = require("fs");
const path = require("path");
const { parseEntries } = require("../po2js.js");

function sources(dir) {
    return fs.readdirSync(dir).filter(f => /\.jsx?$/.test(f)).map(f => path.join(dir, f));
}

function extract(dir) {
    const found = new Set();
    const re = /\bN?_\(\s*("(?:[^"\\]|\\.)*")\s*\)/g;
    for (const file of sources(dir)) {
        const text = fs.readFileSync(file, "utf8");
        for (const m of text.matchAll(re))
            found.add(JSON.parse(m[1]));
    }
    return [...found].sort();
}

function main() {
    const srcdir = path.join(__dirname, "..", "src");
    const strings = extract(srcdir);
    const args = process.argv.slice(2);
    if (args[0] !== "--check") {
        for (const s of strings)
            console.log(JSON.stringify(s));
        return;
    }
    const po = args[1];
    const entries = parseEntries(fs.readFileSync(po, "utf8"), po).filter(e => e.msgid !== "");
    const have = new Map(entries.map(e => [e.msgid, e.msgstr[0]]));
    let bad = 0;
    for (const s of strings) {
        if (!have.get(s)) {
            console.error(`${po}: no translation of ${JSON.stringify(s)}`);
            bad++;
        }
    }
    for (const e of entries) {
        if (!strings.includes(e.msgid)) {
            console.error(`${po}: ${JSON.stringify(e.msgid)} is used nowhere`);
            bad++;
        }
    }
    if (bad)
        process.exit(1);
    console.log(`${po}: all ${strings.length} strings translated`);
}

main();
