// Copies what the browser needs into the served tree:
//
//   node scripts/build.js [--out ../build/www]
//
//   index.html icon.svg css/ src/          the app, as plain ES modules
//   vendor/minisearch/index.js             search (loaded by the search view)
//   vendor/foliate-js/                     EPUB rendering (loaded by the reader)
//   config.json                            written from config.json here only
//                                          when the tree has none (an
//                                          operator's or the demo's stays)
//
// No bundler: the modules are served as they are.  The one rewrite is
// foliate-js's fixed-layout.js, whose bare import of its polyfill gets a
// relative path.  Prints the first-load size and fails over budget.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLoad, BUDGET_GZIP } from './firstload.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = path.resolve(outArg >= 0 ? args[outArg + 1] : path.join(root, '..', 'build', 'www'));

function copy(src, dst) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
}

function copyTree(src, dst, filter = () => true) {
    for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
        const s = path.join(src, entry.name), d = path.join(dst, entry.name);
        if (entry.isDirectory()) copyTree(s, d, filter);
        else if (filter(s)) copy(s, d);
    }
}

const nm = path.join(root, 'node_modules');
if (!fs.existsSync(path.join(nm, 'minisearch')) || !fs.existsSync(path.join(nm, 'foliate-js'))) {
    console.error('build: node_modules is incomplete: run "npm ci" first');
    process.exit(1);
}

// the app; src/merge.js is build-time only (tools/digin-catalog)
fs.rmSync(path.join(out, 'src'), { recursive: true, force: true });
fs.rmSync(path.join(out, 'vendor'), { recursive: true, force: true });
copy(path.join(root, 'index.html'), path.join(out, 'index.html'));
copy(path.join(root, 'icon.svg'), path.join(out, 'icon.svg'));
copyTree(path.join(root, 'css'), path.join(out, 'css'));
copyTree(path.join(root, 'src'), path.join(out, 'src'), f => f.endsWith('.js') && !f.endsWith('merge.js'));
if (!fs.existsSync(path.join(out, 'config.json'))) {
    copy(path.join(root, 'config.json'), path.join(out, 'config.json'));
}

// MiniSearch: one ES module
copy(path.join(nm, 'minisearch', 'dist', 'es', 'index.js'), path.join(out, 'vendor', 'minisearch', 'index.js'));
copy(path.join(nm, 'minisearch', 'LICENSE.txt'), path.join(out, 'vendor', 'minisearch', 'LICENSE.txt'));

// foliate-js: the library's modules (not its demo reader or build files)
const foliate = path.join(nm, 'foliate-js');
const foliateOut = path.join(out, 'vendor', 'foliate-js');
const skip = new Set(['reader.js', 'eslint.config.js', 'rollup.config.js']);
for (const f of fs.readdirSync(foliate)) {
    if (f.endsWith('.js') && !skip.has(f)) copy(path.join(foliate, f), path.join(foliateOut, f));
}
copyTree(path.join(foliate, 'vendor'), path.join(foliateOut, 'vendor'));
copy(path.join(foliate, 'LICENSE'), path.join(foliateOut, 'LICENSE'));
const polyfill = path.join(nm, 'construct-style-sheets-polyfill', 'dist', 'adoptedStyleSheets.js');
copy(polyfill, path.join(foliateOut, 'vendor', 'adoptedStyleSheets.js'));
const fxl = path.join(foliateOut, 'fixed-layout.js');
fs.writeFileSync(fxl, fs.readFileSync(fxl, 'utf8').replace(
    /import\s+['"]construct-style-sheets-polyfill['"]/, "import './vendor/adoptedStyleSheets.js'"));

const size = firstLoad(out);
console.log(`build: ${out}`);
console.log(`build: first load ${size.rows.length} files, ${(size.bytes / 1024).toFixed(1)} KB, ` +
    `${(size.gzip / 1024).toFixed(1)} KB gzip (budget ${BUDGET_GZIP / 1024} KB)`);
if (size.gzip > BUDGET_GZIP) {
    console.error('build: the first load is over budget');
    process.exit(1);
}
