// Walks the patron's journey in headless Chromium against a running
// gateway (make demo), runs axe-core on every view, and saves
// screenshots: a tool for looking, not a test.
//
//   node scripts/walk.js [--base http://127.0.0.1:8080] [--out /tmp/digin-walk]
//                        [--width 1280] [--patron ola] [--lang nb]
//
// Prints each view's axe violations; exits 1 when there are any.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const base = opt('base', 'http://127.0.0.1:8080');
const out = opt('out', '/tmp/digin-walk');
const width = Number(opt('width', '1280'));
const patron = opt('patron', 'ola');
const lang = opt('lang', 'nb');
fs.mkdirSync(out, { recursive: true });

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'] });
const context = await browser.newContext({ viewport: { width, height: 900 }, reducedMotion: 'reduce' });
await context.addInitScript(l => localStorage.setItem('digin:lang', JSON.stringify(l)), lang);
const page = await context.newPage();
const problems = [];
page.on('pageerror', e => problems.push(`page error: ${e.message}`));
page.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

let violations = 0;
async function check(name) {
    await page.waitForFunction(() => document.documentElement.classList.contains('ready')
        && !document.querySelector('#main[aria-busy]'));
    await page.screenshot({ path: path.join(out, `${name}-${width}.png`), fullPage: true });
    await page.evaluate(axeSource);
    const r = await page.evaluate(() => window.axe.run(document, {
        runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
    for (const v of r.violations) {
        violations++;
        console.log(`${name}: ${v.id} (${v.impact}) ${v.help}`);
        for (const n of v.nodes.slice(0, 3)) console.log(`    ${n.target.join(' ')}: ${n.failureSummary.split('\n')[1] || ''}`);
    }
    const focused = await page.evaluate(() => document.activeElement && (document.activeElement.tagName +
        (document.activeElement.id ? '#' + document.activeElement.id : '')));
    console.log(`${name}: ${r.violations.length} violations, focus on ${focused}`);
}

async function go(hash, name) {
    await page.evaluate(h => { location.hash = h; }, hash);
    await page.waitForFunction(h => location.hash === h || location.hash.startsWith(h.split('?')[0]), hash);
    await check(name);
}

await page.goto(`${base}/`);
await check('home');
await go('#/search', 'search');
await page.fill('#q', 'eik');
await page.waitForFunction(() => document.querySelectorAll('#results li').length > 0);
await check('search-eik');
await go('#/help', 'help');
await go('#/accessibility', 'accessibility');
await go('#/language', 'language');
await go('#/signin', 'signin');
await page.click(`#patron-${patron}`);
await page.waitForFunction(() => document.querySelector('#sign-out'));
await check('home-signed-in');
await go('#/loans', 'loans');
await go('#/title/9788293700104', 'title');
if (await page.$('#borrow-lydhuset-audio')) {
    await page.click('#borrow-lydhuset-audio');
    await page.waitForSelector('#dialog[open]');
    await check('borrow-dialog');
    await page.click('#borrow-confirm');
    await page.waitForFunction(() => document.querySelector('#result-lydhuset-audio p'));
    await check('borrowed');
}
if (await page.$('#open-lydhuset-audio')) {
    await page.click('#open-lydhuset-audio');
    await page.waitForSelector('#play');
    await check('player');
}
await go('#/title/9788293700203', 'title-eik');
if (await page.$('#borrow-bokskya-ebook')) {
    await page.click('#borrow-bokskya-ebook');
    await page.waitForSelector('#dialog[open]');
    await page.click('#borrow-confirm');
    await page.waitForFunction(() => document.querySelector('#result-bokskya-ebook p'));
    await check('borrowed-ebook');
}
if (await page.$('#open-bokskya-ebook')) {
    await page.click('#open-bokskya-ebook');
    await page.waitForFunction(() => document.querySelector('#progress')?.textContent
        || document.querySelector('#reader-status .message'));
    await check('reader');
}
for (const p of problems) console.log(p);
await browser.close();
console.log(`walk: ${violations} axe violations, ${problems.length} page problems; screenshots in ${out}`);
process.exit(violations || problems.length ? 1 : 0);
