#!/usr/bin/env node
// Builds the Cockpit package: bundles src/index.jsx with esbuild, copies the
// manifest and the page, and turns each po/LANG.po into po.LANG.js, the form
// in which cockpit-ws hands a page its translations as po.js.
//
//   node build.js --outdir=DIR [--watch]

"use strict";

const fs = require("fs");
const path = require("path");
const esbuild = require("esbuild");
const { poToLocale } = require("./po2js.js");

function parseArgs(argv) {
    const args = { outdir: null, watch: false };
    for (const a of argv) {
        if (a.startsWith("--outdir="))
            args.outdir = a.slice("--outdir=".length);
        else if (a === "--watch")
            args.watch = true;
        else
            throw new Error(`unknown argument: ${a}`);
    }
    if (!args.outdir)
        throw new Error("usage: node build.js --outdir=DIR [--watch]");
    return args;
}

function writeTranslations(srcdir, outdir) {
    const podir = path.join(srcdir, "po");
    for (const file of fs.readdirSync(podir)) {
        if (!file.endsWith(".po"))
            continue;
        const lang = file.slice(0, -3);
        const text = fs.readFileSync(path.join(podir, file), "utf8");
        const { locale, plural } = poToLocale(text, lang, file);
        // cockpit.locale() wants the plural rule as a function, which
        // JSON cannot carry: it is written out as code from the header.
        const json = JSON.stringify(locale).replace(/^\{"":\{/, `{"":{"plural-forms":n => (${plural}),`);
        const js = `cockpit.locale(${json});\n`;
        fs.writeFileSync(path.join(outdir, `po.${lang}.js`), js);
    }
}

function copyStatic(srcdir, outdir) {
    for (const file of ["manifest.json", "index.html"])
        fs.copyFileSync(path.join(srcdir, "src", file), path.join(outdir, file));
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const srcdir = __dirname;
    const outdir = path.resolve(args.outdir);

    fs.mkdirSync(outdir, { recursive: true });
    const options = {
        entryPoints: [path.join(srcdir, "src", "index.jsx")],
        outdir,
        bundle: true,
        minify: !args.watch,
        sourcemap: args.watch ? "inline" : false,
        target: ["es2020"],
        jsx: "automatic",
        // The fonts and images PatternFly's CSS names go beside the
        // bundle: the page loads nothing from elsewhere.
        loader: { ".woff": "file", ".woff2": "file", ".svg": "file", ".png": "file", ".jpg": "file" },
        assetNames: "assets/[name]-[hash]",
        format: "iife",
        legalComments: "external",
        logLevel: "warning",
        define: { "process.env.NODE_ENV": args.watch ? '"development"' : '"production"' },
    };
    copyStatic(srcdir, outdir);
    writeTranslations(srcdir, outdir);
    if (args.watch) {
        const ctx = await esbuild.context(options);
        await ctx.watch();
        return;
    }
    await esbuild.build(options);
}

main().catch(err => {
    console.error(`build.js: ${err.message}`);
    process.exit(1);
});
