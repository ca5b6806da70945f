// Debian's Chromium driven by playwright-core, and what the browser
// tests look at in a page: the view being ready, focus and its
// indicator, reflow, axe-core, the text of a book in the reader.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { BUILD } from './stack.js';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = process.env.DIGIN_SCREENSHOTS || path.join(BUILD, 'screenshots');

// headless, as root in CI (no sandbox), and quiet: no GPU, no QUIC, no
// first-run or background traffic, a profile of its own
export const CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// → { browser, context (the profile's own), close() }.  More contexts
// come from browser.newContext(); all live in the fresh profile.
export async function launch() {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'digin-chromium-'));
    const forget = () => fs.rmSync(profile, { recursive: true, force: true });
    process.once('exit', forget);           // an interrupted run too
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
    });
    const browser = context.browser();
    return {
        browser,
        context,
        profile,
        async close() {
            await context.close();
            forget();
            process.removeListener('exit', forget);
        },
    };
}

// A page whose console errors and uncaught exceptions are collected.
export async function newPage(context) {
    const page = await context.newPage();
    page.problems = [];
    page.on('pageerror', e => page.problems.push(`page error: ${e.message}`));
    page.on('console', m => {
        if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
    });
    return page;
}

export async function setLanguage(context, lang) {
    await context.addInitScript(l => {
        if (!localStorage.getItem('digin:lang')) localStorage.setItem('digin:lang', JSON.stringify(l));
    }, lang);
}

// The view has rendered: the app booted, main is not busy, nothing in it
// is still loading, and its h1 is a new one (not `old`).
export async function settled(page, { timeout = 15000 } = {}) {
    await page.waitForFunction(() => {
        const main = document.getElementById('main');
        const h1 = main && main.querySelector('h1');
        return document.documentElement.classList.contains('ready')
            && !main.hasAttribute('aria-busy')
            && h1 && !h1.dataset.e2eOld
            && ![...main.querySelectorAll('.loading')].some(el => el.textContent.trim());
    }, null, { timeout });
}

// Marks the view shown now, so that settled() waits for the next one.
export async function markView(page) {
    await page.evaluate(() => {
        const h1 = document.querySelector('#main h1');
        if (h1) h1.dataset.e2eOld = '1';
    });
}

// Navigates inside the app (a hash change, as a link does) and waits.
export async function go(page, hash) {
    await markView(page);
    await page.evaluate(h => { location.hash = h; }, hash);
    await settled(page);
}

// Runs `action` (a click, a key press) and waits for the view it opens.
export async function navigate(page, action) {
    await markView(page);
    await action();
    await settled(page);
}

export function focused(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        return {
            tag: el.tagName.toLowerCase(),
            id: el.id,
            text: (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 60),
            inMainH1: el.tagName === 'H1' && el.closest('#main') !== null,
        };
    });
}

// What draws the focus of the element that has it: outline or
// box-shadow, as computed; empty when neither.
export function focusIndicator(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return { element: null, indicator: '' };
        const cs = getComputedStyle(el);
        const parts = [];
        if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) {
            parts.push(`outline ${cs.outlineWidth} ${cs.outlineStyle} ${cs.outlineColor}`);
        }
        if (cs.boxShadow && cs.boxShadow !== 'none') parts.push(`box-shadow ${cs.boxShadow}`);
        const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
            + (el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : '');
        return { element: name, indicator: parts.join('; ') };
    });
}

// Reflow (WCAG 1.4.10): no horizontal scrolling of the document.
export function horizontalOverflow(page) {
    return page.evaluate(() => {
        const width = document.scrollingElement.scrollWidth;
        const wide = [];
        if (width > innerWidth) {
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > innerWidth + 0.5 && r.width > 0) {
                    wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${
                        el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''} right=${Math.round(r.right)}`);
                }
            }
        }
        return { scrollWidth: width, innerWidth, wide: wide.slice(0, 8) };
    });
}

// Motion in the page: animations and transitions running now with a
// duration, elements whose computed transition or animation lasts more
// than the 0.01 ms the reduced-motion rule leaves, and smooth scrolling.
export function motion(page) {
    return page.evaluate(() => {
        const seconds = list => Math.max(0, ...String(list).split(',').map(v => {
            const x = parseFloat(v);
            return /ms/.test(v) ? x / 1000 : x;
        }));
        const running = document.getAnimations()
            .filter(a => a.playState === 'running')
            .map(a => ({ name: a.animationName || a.transitionProperty || a.constructor.name,
                duration: Number(a.effect && a.effect.getComputedTiming().duration) || 0 }))
            .filter(a => a.duration > 0.01);
        const slow = [];
        const visit = root => {
            for (const el of root.querySelectorAll('*')) {
                for (const pseudo of [null, '::before', '::after']) {
                    const cs = getComputedStyle(el, pseudo);
                    const d = Math.max(seconds(cs.transitionDuration), seconds(cs.animationDuration));
                    if (d > 0.00001 && (cs.transitionProperty !== 'none' || cs.animationName !== 'none')) {
                        slow.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${pseudo || ''} ${d}s`);
                    }
                }
                if (el.shadowRoot) visit(el.shadowRoot);
            }
        };
        visit(document);
        return { running, slow: slow.slice(0, 10),
            scrollBehavior: getComputedStyle(document.documentElement).scrollBehavior };
    });
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// axe-core with the WCAG 2.1 A and AA rules, in the page and in every
// frame it has (the reader's book is an iframe in a shadow tree).
export async function axe(page) {
    for (const frame of page.frames()) {
        try {
            await frame.evaluate(AXE_SOURCE);
        } catch { /* a frame that went away */ }
    }
    const result = await page.evaluate(tags => window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
    }), AXE_TAGS);
    return result.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => `${n.target.join(' ')}: ${(n.failureSummary || '').split('\n').slice(1).join(' ').trim()}`),
    }));
}

export function describeViolations(list) {
    return list.map(v => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
}

export async function screenshot(page, name) {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

// The book's text that is on screen in the reader: foliate-js renders
// each section of the EPUB in an iframe inside its (closed) shadow
// trees and pages through it with CSS columns, so the text on screen is
// the text whose boxes fall inside the visible part of #book.
export async function visibleBookText(page) {
    const book = await page.$('#book');
    const area = book && await book.boundingBox();
    if (!area) return '';
    let text = '';
    for (const frame of page.frames()) {
        if (frame === page.mainFrame()) continue;
        const owner = await frame.frameElement().catch(() => null);
        const box = owner && await owner.boundingBox();
        if (!box) continue;
        // the visible part of #book, in the frame's coordinates
        const view = {
            left: area.x - box.x, top: area.y - box.y,
            right: area.x + area.width - box.x, bottom: area.y + area.height - box.y,
        };
        text += await frame.evaluate(v => {
            // word by word: a paragraph can run on past the page
            const out = [];
            const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                for (const m of n.data.matchAll(/\S+/g)) {
                    range.setStart(n, m.index);
                    range.setEnd(n, m.index + m[0].length);
                    const r = range.getBoundingClientRect();
                    if (r.width > 0 && r.left >= v.left - 1 && r.right <= v.right + 1
                        && r.top >= v.top - 1 && r.bottom <= v.bottom + 1) out.push(m[0]);
                }
                out.push('\n');
            }
            return out.join(' ');
        }, view).catch(() => '');
    }
    return text.replace(/\s+/g, ' ');
}
