// The front end in Debian's Chromium against the real stack: make demo
// (the gateway with ngx_http_digin_module, redis-server, the vendor
// mocks) on free ports, stopped with Ctrl-C at the end.
//
//   cd frontend && node --test e2e/        (after: make all content frontend)
//
// Demo patrons and what each test does with them (the stack starts with
// fresh Redis data, so the quotas are known):
//   kari  5 e-books, 1 audiobook: signs in, searches, filters, borrows
//         and reads an e-book, borrows and listens to an audiobook; a
//         second tab then meets the exhausted audiobook quota
//   ola   1 of 3 e-book loans left: the keyboard-only journey borrows
//         it, then another e-book shows the exhausted quota; with an
//         audiobook lent through the API he is the patron of the tour
//         of every view (axe, reflow, screenshots)
// Screenshots go to build/screenshots/ (DIGIN_SCREENSHOTS to move them).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { createI18n } from '../src/i18n.js';
import nb from '../src/i18n/nb.js';
import nn from '../src/i18n/nn.js';
import se from '../src/i18n/se.js';
import en from '../src/i18n/en.js';
import { startStack, waitFor } from './lib/stack.js';
import {
    launch, newPage, setLanguage, settled, go, navigate, focused, focusIndicator,
    horizontalOverflow, motion, axe, describeViolations, screenshot, visibleBookText,
} from './lib/browser.js';

const CATALOGS = { nb, nn, se, en };
const T = Object.fromEntries(Object.entries(CATALOGS).map(([code, c]) =>
    [code, createI18n(c, code, code === 'nb' ? null : nb).t]));
const t = T.nb;

const EIK = '9788293700203';          // Ekornet Eik teller nøtter: e-book
const SNOW = '9788293700302';         // Ekornet Eik og den store snøen: e-book
const POEMS = '9788293700401';        // Dikt frå fjorden: e-book
const FERRY = '9788293700104';        // Fergen: e-book and audiobook
const COMPASS = '9788293700906';      // Kompasset til bestefar: audiobook
const TRAIN = '9788293701101';        // The Night Train: audiobook

const LIMIT = { timeout: 60000 };     // each test; the suite takes about a minute

let stack;
let chrome;
let patrons;
let stopped = null;

before(async () => {
    stack = await startStack();
    patrons = Object.fromEntries((await stack.patrons()).map(p => [p.id, p]));
    chrome = await launch();
}, { timeout: 600000 });

after(async () => {
    await chrome?.close();
    if (stack && !stopped) await stack.stop();
    stack?.cleanup();
});

async function newContext({ lang = 'nb', width = 1280, height = 900, ...options } = {}) {
    const context = await chrome.browser.newContext({ viewport: { width, height }, locale: 'nb-NO', ...options });
    await setLanguage(context, lang);
    return context;
}

async function api(path, patron, method = 'GET') {
    const res = await fetch(new URL(path, stack.url), {
        method, headers: { Authorization: `Bearer ${patrons[patron].token}` },
    });
    return { status: res.status, body: await res.json().catch(() => null) };
}

const text = (page, selector) => page.locator(selector).first().innerText().then(s => s.trim());

// After a click the h1's focus is not drawn (:focus-visible); after a
// key press it is.
async function h1HasFocus(page, what, { shown = false } = {}) {
    const f = await focused(page);
    assert.ok(f && f.inMainH1, `focus on the view's h1 after ${what}, not on ${JSON.stringify(f)}`);
    if (shown) {
        const ind = await focusIndicator(page);
        assert.ok(ind.indicator, `the focused h1 shows its focus after ${what}`);
    }
}

async function signInByClick(page, id) {
    await navigate(page, () => page.click('#sign-in-link'));
    await h1HasFocus(page, 'opening the sign-in page');
    await navigate(page, () => page.click(`#patron-${id}`));
    await page.waitForSelector('#sign-out');
}

function noProblems(page) {
    assert.deepEqual(page.problems, [], 'no page errors or console errors');
}

test('a patron signs in, searches, filters, opens a title, borrows and reads', LIMIT, async () => {
    const context = await newContext();
    const page = await newPage(context);
    try {
        await page.goto(stack.url);
        await settled(page);
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'nb');
        assert.equal(await text(page, '#main h1'), t('home.title'));

        await signInByClick(page, 'kari');
        assert.match(await text(page, '#who'), /Kari Hansen/);
        assert.equal(await text(page, '#quota-ebook .quota-text'), t('quota.left.ebook', { count: 5, limit: 5 }));

        // search: results while typing
        await navigate(page, () => page.click('nav a[href="#/search"]'));
        await h1HasFocus(page, 'opening search');
        await page.locator('#q').pressSequentially('eik');
        await page.waitForFunction(() => document.querySelectorAll('#results .card').length > 0
            && location.hash.includes('q=eik'));
        let titles = await page.locator('#results .card-title').allInnerTexts();
        assert.ok(titles.includes('Ekornet Eik teller nøtter') && titles.includes('Ekornet Eik og den store snøen'),
            `both Eik books among ${titles}`);
        assert.equal(await page.isVisible('#more'), false, 'no "more" button under a short list');

        // facets: audiobooks, then audiobooks in nynorsk
        await page.fill('#q', '');
        await page.waitForFunction(() => document.querySelectorAll('#results .card').length === 11);
        await page.click('#facet-medium input[value="audio"]');
        await page.waitForFunction(() => location.hash.includes('medium=audio'));
        assert.equal(await text(page, '#result-count'), t('search.count', { count: 5 }));
        const badges = await page.locator('#results .card').evaluateAll(cards =>
            cards.map(c => [...c.querySelectorAll('.badge')].map(b => b.className)));
        assert.ok(badges.every(b => b.includes('badge badge-audio')), 'every result is an audiobook');
        await page.click('#facet-language input[value="nno"]');
        await page.waitForFunction(() => location.hash.includes('language=nno'));
        titles = await page.locator('#results .card-title').allInnerTexts();
        assert.deepEqual(titles, ['Brua over elva']);
        assert.equal(await text(page, '#facet-medium [data-value="ebook"]'), '(2)',
            'the facet counts follow the other filters (nynorsk e-books: 2)');

        // open a title from the results
        await page.click('#facet-medium input[value=""]');
        await page.click('#facet-language input[value=""]');
        await page.fill('#q', 'eik teller');
        await page.waitForFunction(() => document.querySelector('#results .card-title')?.textContent === 'Ekornet Eik teller nøtter');
        await navigate(page, () => page.click('#results .card-link'));
        assert.equal(await text(page, '#main h1'), 'Ekornet Eik teller nøtter');
        await h1HasFocus(page, 'opening a title');
        assert.match(await text(page, '#source-bokskya-ebook'),
            new RegExp(t('quota.left.ebook', { count: 5, limit: 5 })));

        // borrow: the dialog says what the loan uses, then the loan
        await page.click('#borrow-bokskya-ebook');
        await page.waitForSelector('#dialog[open]');
        assert.equal(await text(page, '#dialog-title'), t('borrow.question.ebook', { title: 'Ekornet Eik teller nøtter' }));
        assert.match(await text(page, '#dialog'), new RegExp(t('borrow.after', { count: 4 })));
        const dialogViolations = await axe(page);
        assert.deepEqual(dialogViolations, [], `the borrow dialog: ${describeViolations(dialogViolations)}`);
        await page.click('#borrow-confirm');
        await page.waitForSelector('#result-bokskya-ebook .message-ok');
        assert.match(await text(page, '#result-bokskya-ebook'), /^Lånt!/);
        assert.equal((await focused(page)).id, 'result-bokskya-ebook', 'focus on the outcome');

        // the quota left went down, here and on "my loans"
        await go(page, '#/loans');
        await h1HasFocus(page, 'opening my loans');
        assert.equal(await text(page, '#quota-ebook .quota-text'), t('quota.left.ebook', { count: 4, limit: 5 }));
        assert.equal(await page.getAttribute('#quota-ebook meter', 'value'), '1');
        assert.ok(await page.$(`#loan-bokskya-${EIK}`), 'the loan is listed');
        const me = await api('/api/me', 'kari');
        assert.equal(me.body.quota.ebook.left, 4, 'the gateway counted it');

        // read: the book's own text on screen
        await navigate(page, () => page.click(`#loan-bokskya-${EIK} .button-link`));
        await h1HasFocus(page, 'opening the reader');
        assert.equal(await text(page, '#main h1'), 'Ekornet Eik teller nøtter');
        const first = await visibleBookText(page);
        assert.match(first, /Ekornet Eik bor i et hull i et gammelt eiketre/);
        await page.click('#page-next');
        await waitFor(async () => (await visibleBookText(page)) !== first, { what: 'the next page' });
        assert.match(await visibleBookText(page), /Eik spør musa|Hundre, sier musa/);
        noProblems(page);
    } finally {
        await context.close();
    }
});

test('a patron borrows an audiobook, listens, jumps to a chapter, and then meets the quota', LIMIT, async () => {
    const context = await newContext();
    const page = await newPage(context);
    const other = await newPage(context);
    try {
        // a second tab that will still think one audiobook loan is left
        await other.goto(`${stack.url}#/title/${COMPASS}`);
        await settled(other);
        // (a tab in the background gets one animation frame a second)
        await page.bringToFront();
        await page.goto(stack.url);
        await settled(page);
        await signInByClick(page, 'kari');
        await other.bringToFront();
        await other.reload();
        await settled(other);
        await other.waitForSelector('#borrow-lydhuset-audio');
        await page.bringToFront();

        await go(page, `#/title/${FERRY}`);
        assert.match(await text(page, '#source-lydhuset-audio'),
            new RegExp(t('quota.left.audio', { count: 1, limit: 1 })));
        await page.click('#borrow-lydhuset-audio');
        await page.waitForSelector('#dialog[open]');
        await page.click('#borrow-confirm');
        await page.waitForSelector('#result-lydhuset-audio .message-ok');
        await navigate(page, () => page.click('#open-lydhuset-audio'));
        await h1HasFocus(page, 'opening the player');

        // play: the time goes on
        await page.click('#play');
        const t1 = await page.waitForFunction(() => {
            const a = document.getElementById('audio');
            return !a.paused && a.currentTime > 0.3 && a.currentTime;
        }, null, { timeout: 15000 }).then(h => h.jsonValue());
        await page.waitForFunction(t0 => document.getElementById('audio').currentTime > t0 + 0.5, t1,
            { timeout: 15000 });
        assert.equal(await text(page, '#play'), t('player.pause'));

        // a chapter jump lands at the chapter's offset in the book
        const manifest = (await api(`/vendor/lydhuset/manifests/${FERRY}.json`, 'kari')).body;
        const at = manifest.readingOrder[0].duration + manifest.readingOrder[1].duration;
        await page.click('[data-chapter="2"]');
        await page.waitForFunction(() => /\/3\.opus$/.test(document.getElementById('audio').src)
            && document.getElementById('audio').currentTime > 0.3);
        const seek = Number(await page.inputValue('#seek'));
        assert.ok(Math.abs(seek - at) < 3, `the position ${seek} s is the third chapter's start ${at} s`);
        assert.equal(await page.getAttribute('[data-chapter="2"]', 'aria-current'), 'true');
        assert.match(await text(page, '#chapter-now'), new RegExp(manifest.readingOrder[2].title));
        await page.click('#play');                                   // pause
        await page.waitForFunction(() => document.getElementById('audio').paused);

        // the quota is used up now: the gateway refuses the stale tab's loan
        assert.equal((await api('/api/me', 'kari')).body.quota.audio.left, 0);
        await other.bringToFront();
        await other.click('#borrow-lydhuset-audio');
        await other.waitForSelector('#dialog[open]');
        await other.click('#borrow-confirm');
        await other.waitForSelector('#error-lydhuset-audio');
        assert.equal(await other.getAttribute('#error-lydhuset-audio', 'data-code'), 'quota_exhausted');
        assert.match(await text(other, '#error-lydhuset-audio'), new RegExp(`^${t('status.quota_exhausted.audio')}`));
        // and a fresh look at the title says so before anyone tries
        await other.reload();
        await settled(other);
        assert.match(await text(other, '#source-lydhuset-audio p'), new RegExp(`^${t('status.quota_exhausted.audio')}`));
        assert.equal(await other.$('#borrow-lydhuset-audio'), null, 'no borrow button');
        noProblems(page);
    } finally {
        await context.close();
    }
});

// Tab, Shift+Tab, Enter and Space only; typing the query is typing.
async function tabTo(page, selector, { max = 80 } = {}) {
    const seen = [];
    for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const ind = await focusIndicator(page);
        seen.push(ind.element);
        assert.ok(ind.indicator, `${ind.element} shows that it has the focus`);
        if (await page.evaluate(s => document.activeElement?.matches(s), selector)) return seen;
    }
    throw new Error(`${selector} not reached in ${max} tabs: ${seen.join(' ')}`);
}

test('the keyboard-only journey, with the focus always visible', LIMIT, async () => {
    const context = await newContext();
    const page = await newPage(context);
    try {
        await page.goto(stack.url);
        await settled(page);
        const first = await tabTo(page, '#skip-link', { max: 1 });
        assert.deepEqual(first, ['a#skip-link.skip-link'], 'the first Tab reaches "skip to content"');

        await tabTo(page, '#sign-in-link');
        await navigate(page, () => page.keyboard.press('Enter'));
        await h1HasFocus(page, 'Enter on "sign in"', { shown: true });
        await tabTo(page, '#patron-ola');
        await navigate(page, () => page.keyboard.press('Enter'));
        await h1HasFocus(page, 'signing in', { shown: true });
        assert.match(await text(page, '#who'), /Ola Nordmann/);

        await tabTo(page, '#home-q');
        await page.keyboard.type('snøen');
        await navigate(page, () => page.keyboard.press('Enter'));
        await h1HasFocus(page, 'searching', { shown: true });
        await page.waitForSelector('#results .card');
        await tabTo(page, '#results .card-link');
        assert.equal(await text(page, '#results .card-title'), 'Ekornet Eik og den store snøen');
        await navigate(page, () => page.keyboard.press('Enter'));
        await h1HasFocus(page, 'opening the title', { shown: true });
        assert.equal(await page.evaluate(() => location.hash), `#/title/${SNOW}`);
        assert.equal(await text(page, '#main h1'), 'Ekornet Eik og den store snøen');

        await tabTo(page, '#borrow-bokskya-ebook');
        await page.keyboard.press('Space');
        await page.waitForSelector('#dialog[open]');
        const inDialog = await focusIndicator(page);
        assert.equal(inDialog.element, 'button#borrow-confirm.button', 'the dialog puts the focus on "borrow"');
        assert.ok(inDialog.indicator, 'and shows it');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#result-bokskya-ebook .message-ok');
        const outcome = await focusIndicator(page);
        assert.equal(outcome.element, 'div#result-bokskya-ebook.source-result', 'the focus is on the outcome');
        assert.ok(outcome.indicator, 'and shows it');

        await tabTo(page, '#open-bokskya-ebook', { max: 1 });
        await navigate(page, () => page.keyboard.press('Enter'));
        await h1HasFocus(page, 'opening the reader', { shown: true });
        assert.match(await visibleBookText(page), /snø/i, 'the book is on screen');
        noProblems(page);

        // that was Ola's last e-book loan: another e-book says so
        await go(page, `#/title/${POEMS}`);
        assert.match(await text(page, '#source-bokskya-ebook p'), new RegExp(`^${t('status.quota_exhausted.ebook')}`));
        assert.equal(await page.$('#borrow-bokskya-ebook'), null, 'no borrow button');
        await go(page, '#/loans');
        assert.equal(await text(page, '#quota-ebook .quota-text'), t('quota.left.ebook', { count: 0, limit: 3 }));
        assert.equal((await api('/api/me', 'ola')).body.quota.ebook.left, 0);
    } finally {
        await context.close();
    }
});

test('nynorsk and Northern Sami: the strings and <html lang> change', LIMIT, async () => {
    const context = await newContext();
    const page = await newPage(context);
    try {
        await page.goto(stack.url);
        await settled(page);
        const ui = () => page.evaluate(() => ({
            lang: document.documentElement.lang,
            h1: document.querySelector('#main h1').textContent.trim(),
            nav: [...document.querySelectorAll('#header nav a')].map(a => a.textContent.trim()),
            title: document.title,
        }));
        assert.deepEqual((await ui()).nav, [t('nav.home'), t('nav.search'), t('nav.loans'), t('nav.help')]);
        await navigate(page, () => page.click('#language-link'));
        for (const code of ['nn', 'se', 'nb']) {
            await page.check(`input[name="lang"][value="${code}"]`);
            await navigate(page, () => page.click('#language-save'));
            await h1HasFocus(page, `choosing ${code}`);
            const now = await ui();
            assert.equal(now.lang, code);
            assert.equal(now.h1, T[code]('language.title'));
            assert.deepEqual(now.nav, [T[code]('nav.home'), T[code]('nav.search'), T[code]('nav.loans'), T[code]('nav.help')]);
            assert.equal(now.title, `${T[code]('language.title')} – Digin`);
            if (code !== 'nb') {
                assert.notEqual(now.h1, T.nb('language.title'), 'not bokmål any more');
                assert.notEqual(now.nav[0], T.nb('nav.home'));
            }
            await waitFor(() => page.evaluate(() => document.getElementById('status').textContent), { what: 'the announcement' });
            assert.equal(await text(page, '#status'), T[code]('language.changed'));
        }
        noProblems(page);
    } finally {
        await context.close();
    }
});

test('a blocked patron and a suspended library are not told they can borrow', LIMIT, async () => {
    for (const id of ['nils', 'ingrid']) {
        const context = await newContext();
        await context.addCookies([{ name: 'digin_token', value: patrons[id].token, url: stack.url }]);
        const page = await newPage(context);
        try {
            await page.goto(`${stack.url}#/title/${FERRY}`);
            await settled(page);
            const code = id === 'nils' ? 'blocked' : 'suspended';
            assert.equal(await text(page, '#source-bokskya-ebook p'), t(`status.${code}`));
            await go(page, '#/');
            assert.ok(await page.$('.card'), 'the home view lists titles');
            assert.equal((await page.$$('.card-mine')).length, 0, `no "${t('card.availableToYou')}" for ${id}`);
        } finally {
            await context.close();
        }
    }
});

const VIEWS = [
    ['search', '#/search?q=eik'],
    ['title', `#/title/${FERRY}`],
    ['loans', '#/loans'],
    ['reader', `#/read/bokskya/${FERRY}`],
    ['player', `#/listen/lydhuset/${TRAIN}`],
    ['home', '#/'],
    ['language', '#/language'],
    ['help', '#/help'],
    ['accessibility', '#/accessibility'],
    ['notfound', '#/no-such-page'],
];

// Every view, signed out (sign-in) and signed in as Ola with an e-book
// and an audiobook on loan: the h1 takes the focus, axe finds nothing,
// nothing scrolls sideways at 320 px, nothing moves with reduced motion;
// a screenshot of each.
async function tour(name, { lang, width, height = 900, ...options }, { reflow = width <= 640 } = {}) {
    const context = await newContext({ lang, width, height, reducedMotion: 'reduce', ...options });
    const page = await newPage(context);
    const problems = [];
    const look = async view => {
        const violations = await axe(page);
        if (violations.length) problems.push(`${view}: ${describeViolations(violations)}`);
        if (reflow) {
            const o = await horizontalOverflow(page);
            if (o.scrollWidth > o.innerWidth) {
                problems.push(`${view}: scrolls sideways (${o.scrollWidth} > ${o.innerWidth}): ${o.wide.join(', ')}`);
            }
        }
        const m = await motion(page);
        if (m.running.length || m.slow.length || m.scrollBehavior === 'smooth') {
            problems.push(`${view}: motion with reduced motion: ${JSON.stringify(m)}`);
        }
        await screenshot(page, `${view}-${name}`);
    };
    try {
        await page.goto(`${stack.url}#/signin`);
        await settled(page);
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        await look('signin');
        await navigate(page, () => page.click('#patron-ola'));
        for (const [view, hash] of VIEWS) {
            await go(page, hash);
            const f = await focused(page);
            if (!f || !f.inMainH1) problems.push(`${view}: the focus is on ${JSON.stringify(f)}, not the h1`);
            if (view === 'reader') assert.ok((await visibleBookText(page)).length > 20, 'the book is on screen');
            if (view === 'player') await page.waitForFunction(() => document.getElementById('audio').readyState >= 1);
            await look(view);
        }
        problems.push(...page.problems);
    } finally {
        await context.close();
    }
    assert.deepEqual(problems, [], problems.join('\n'));
}

test('every view: axe, focus, reduced motion (bokmål, 1280 px)', LIMIT, async () => {
    const lent = await api(`/loan/lydhuset/${TRAIN}`, 'ola', 'POST');
    assert.ok(lent.status >= 200 && lent.status < 300, `an audiobook for Ola: ${lent.status}`);
    await tour('nb-1280', { lang: 'nb', width: 1280 });
});

test('every view in Northern Sami (1280 px)', LIMIT, () => tour('se-1280', { lang: 'se', width: 1280 }));

test('every view reflows at 320 CSS px (bokmål)', LIMIT, () => tour('nb-320', { lang: 'nb', width: 320, height: 640 }));

test('every view reflows at 320 CSS px (Northern Sami)', LIMIT, () => tour('se-320', { lang: 'se', width: 320, height: 640 }));

test('every view at 200 % zoom (640 CSS px at device scale 2)', LIMIT, () =>
    tour('nb-640-zoom200', { lang: 'nb', width: 640, height: 450, deviceScaleFactor: 2 }));

test('without a reduced-motion preference the page may scroll smoothly (the check above can fail)', LIMIT, async () => {
    const context = await newContext({ reducedMotion: 'no-preference' });
    const page = await newPage(context);
    try {
        await page.goto(stack.url);
        await settled(page);
        assert.equal((await motion(page)).scrollBehavior, 'smooth');
    } finally {
        await context.close();
    }
});

test('Ctrl-C stops the whole stack', LIMIT, async () => {
    await chrome.close();
    chrome = null;
    stopped = await stack.stop();
    assert.ok(stopped.exit, 'make demo ended');
    assert.deepEqual(stopped.left, [], 'no process of the demo is left');
    assert.deepEqual(stopped.busy, [], 'its four ports are free');
    assert.match(stopped.said, /stopped/, 'it said it stopped');
});
