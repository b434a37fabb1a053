// Reads a gettext .po file into the object cockpit.locale() takes:
// { "": { language, "plural-forms" }, msgid: [msgid_plural, msgstr...] }.
// Only what our po files use: msgctxt-free entries, plurals, escapes.

"use strict";

function unquote(line, where) {
    const m = /^"(.*)"$/.exec(line.trim());
    if (!m)
        throw new Error(`${where}: expected a quoted string: ${line}`);
    return JSON.parse(`"${m[1]}"`);
}

function parseEntries(text, file) {
    const entries = [];
    let cur = null;
    let field = null;
    const lines = text.split("\n");
    const flush = () => {
        if (cur && cur.msgid !== undefined)
            entries.push(cur);
        cur = null;
        field = null;
    };
    lines.forEach((raw, i) => {
        const where = `${file}:${i + 1}`;
        const line = raw.trim();
        if (line === "") {
            flush();
            return;
        }
        if (line.startsWith("#")) {
            if (cur && cur.msgid !== undefined)
                flush();
            return;
        }
        const m = /^(msgid|msgid_plural|msgstr(?:\[(\d+)\])?|msgctxt)\s+(".*")$/.exec(line);
        if (m) {
            if (m[1] === "msgid" && cur && cur.msgid !== undefined)
                flush();
            if (!cur)
                cur = { msgstr: [] };
            if (m[1] === "msgctxt")
                throw new Error(`${where}: msgctxt is not supported`);
            if (m[1].startsWith("msgstr")) {
                field = ["msgstr", m[2] === undefined ? 0 : Number(m[2])];
                cur.msgstr[field[1]] = unquote(m[3], where);
            } else {
                field = [m[1]];
                cur[m[1]] = unquote(m[3], where);
            }
            return;
        }
        if (line.startsWith("\"") && cur && field) {
            if (field[0] === "msgstr")
                cur.msgstr[field[1]] += unquote(line, where);
            else
                cur[field[0]] += unquote(line, where);
            return;
        }
        throw new Error(`${where}: cannot read: ${raw}`);
    });
    flush();
    return entries;
}

// The plural rule of the header ("Plural-Forms: nplurals=1; plural=0;"),
// checked to be arithmetic on n only, since it is written out as code.
function pluralRule(header, file) {
    const m = /plural=([^;\n]*)/.exec(header || "");
    const rule = m ? m[1].trim() : "n != 1";
    if (!/^[n0-9\s()<>=!&|%?:+-]+$/.test(rule))
        throw new Error(`${file}: unexpected Plural-Forms rule: ${rule}`);
    return rule;
}

function poToLocale(text, lang, file) {
    const header = { language: lang, "language-direction": "ltr" };
    const out = { "": header };
    let plural = "n != 1";
    for (const e of parseEntries(text, file)) {
        if (e.msgid === "") {
            plural = pluralRule(e.msgstr[0], file);
            continue;
        }
        if (e.msgstr.length === 0 || e.msgstr.some(s => !s))
            continue; // untranslated: the English text shows
        out[e.msgid] = [e.msgid_plural || null, ...e.msgstr];
    }
    return { locale: out, plural };
}

module.exports = { poToLocale, parseEntries };
