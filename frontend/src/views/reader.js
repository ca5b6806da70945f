// The reader: an EPUB rendered in the browser by foliate-js, fetched
// through the gateway (the token cookie goes with the request).  Font
// size, theme (light, dark, sepia) and the position are remembered in
// this browser.  foliate-js is loaded here and only here.

import { html, attr, mount } from '../dom.js';
import { bcp47 } from '../opds.js';
import { loanOf, errorInfo } from '../availability.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { errorBlock } from '../ui.js';
import { loadPublication } from './title.js';

export const THEMES = {
    light: { fg: '#1a1a1a', bg: '#ffffff', link: '#0b57a4' },
    dark: { fg: '#e8e6e3', bg: '#121212', link: '#8cc4ff' },
    sepia: { fg: '#3b2f20', bg: '#f4ecd8', link: '#6b3d0f' },
};
export const FONT_SIZES = [80, 90, 100, 115, 130, 150, 175, 200];

export function bookCss({ theme, fontSize }) {
    const c = THEMES[theme] || THEMES.light;
    return `
      html { color: ${c.fg} !important; background: ${c.bg} !important; font-size: ${fontSize}% !important; }
      body { color: inherit !important; background: transparent !important; }
      a:link, a:visited { color: ${c.link} !important; }
      p, li, blockquote, dd { line-height: 1.6; hyphens: auto; }
      img, svg { max-width: 100%; height: auto; }
      @media (prefers-reduced-motion: reduce) { * { animation: none !important; transition: none !important; } }`;
}

function notReady(app, main, heading, content) {
    mount(main, html`<h1>${heading}</h1>${content}`);
}

export async function render(app, route, main) {
    const t = app.t;
    const [vendor, id] = route.parts;
    if (!app.token) {
        return notReady(app, main, t('reader.title'), html`<p>${t('reader.signIn')}</p>
          <p><a class="button-link" href="#/signin?return=${encodeURIComponent(location.hash)}">${t('auth.signIn')}</a></p>`);
    }
    let pub;
    try {
        pub = await loadPublication(id);
    } catch {
        return notReady(app, main, t('title.missing'), html`<p>${t('title.missingText')}</p>`);
    }
    const source = pub.sources.find(s => s.vendor === vendor && s.medium === 'ebook');
    const loan = loanOf(app.me, id, vendor);
    if (!source || !source.content) {
        return notReady(app, main, pub.title, html`<p>${t('reader.noBook')}</p>`);
    }
    if (!loan) {
        return notReady(app, main, pub.title, html`<p>${t('reader.borrowFirst')}</p>
          <p><a class="button-link" href="#/title/${encodeURIComponent(id)}">${t('reader.toTitle')}</a></p>`);
    }
    const lang = bcp47(pub.language);
    let prefs = store.getReaderPrefs();
    const saved = store.getPosition('epub', vendor, id);

    mount(main, html`
      <div class="reader" id="reader" data-theme="${prefs.theme}">
        <div class="reader-bar">
          <a href="#/title/${encodeURIComponent(id)}" class="back-link">${t('reader.back')}</a>
          <h1${attr('lang', lang)} class="reader-title">${pub.title}</h1>
          <div class="reader-settings" role="group" aria-label="${t('reader.settings')}">
            <div class="font-size" role="group" aria-labelledby="font-size-label">
              <span id="font-size-label">${t('reader.fontSize')}</span>
              <button type="button" class="button-quiet" id="font-smaller">${t('reader.smaller')}</button>
              <output id="font-size-value" aria-live="polite">${prefs.fontSize} %</output>
              <button type="button" class="button-quiet" id="font-larger">${t('reader.larger')}</button>
            </div>
            <fieldset class="themes">
              <legend>${t('reader.theme')}</legend>
              ${Object.keys(THEMES).map(k => html`<label class="choice"><input type="radio" name="theme" value="${k}"${
                attr('checked', prefs.theme === k)}> ${t(`reader.theme.${k}`)}</label>`)}
            </fieldset>
            <button type="button" class="button-quiet" id="toc-toggle" aria-expanded="false" aria-controls="toc">${t('reader.contents')}</button>
          </div>
        </div>
        <nav id="toc" class="toc" hidden aria-label="${t('reader.contents')}"><ol id="toc-list"></ol></nav>
        <p id="reader-status" class="loading" role="status">${t('reader.loading')}</p>
        <div class="book" id="book" role="region" aria-label="${t('reader.text')}"${attr('lang', lang)}></div>
        <div class="reader-nav">
          <button type="button" class="button" id="page-prev">${t('reader.prev')}</button>
          <span id="progress" aria-live="off"></span>
          <button type="button" class="button" id="page-next">${t('reader.next')}</button>
        </div>
      </div>`);

    const status = main.querySelector('#reader-status');
    let res;
    try {
        res = await api.getWithCookie(source.content, 'application/epub+zip');
    } catch {
        res = null;
    }
    if (!res || !res.ok) {
        const body = res ? await res.json().catch(() => null) : null;
        mount(status, errorBlock(app, errorInfo(res ? res.status : 0, body), { returnTo: location.hash }));
        status.removeAttribute('role');
        status.querySelector('[data-action=retry]')?.addEventListener('click', () => app.go(location.hash));
        return {};
    }
    const file = new File([await res.blob()], `${id}.epub`, { type: 'application/epub+zip' });
    await import('../../vendor/foliate-js/view.js');
    const view = document.createElement('foliate-view');
    const bookEl = main.querySelector('#book');
    bookEl.append(view);
    try {
        await view.open(file);
    } catch (e) {
        console.error(e);
        mount(status, html`<p class="message message-error" role="alert">${t('reader.broken')}</p>`);
        return {};
    }
    view.renderer.setAttribute('flow', 'paginated');
    view.renderer.setAttribute('gap', '6%');
    view.renderer.setAttribute('margin', '32px');
    view.renderer.setAttribute('max-inline-size', '720px');
    view.renderer.setAttribute('max-column-count', '2');
    const applyStyles = () => {
        view.renderer.setStyles?.(bookCss(prefs));
        main.querySelector('#reader').dataset.theme = prefs.theme;
        main.querySelector('#font-size-value').textContent = `${prefs.fontSize} %`;
    };
    applyStyles();

    const progress = main.querySelector('#progress');
    view.addEventListener('relocate', e => {
        const { fraction, cfi, tocItem } = e.detail;
        const pct = Math.round((fraction || 0) * 100);
        progress.textContent = tocItem && tocItem.label
            ? t('reader.progressChapter', { percent: pct, chapter: tocItem.label.trim() })
            : t('reader.progress', { percent: pct });
        if (cfi) store.setPosition('epub', vendor, id, { cfi, fraction });
    });
    const onKey = e => {
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        if (e.key === 'ArrowLeft' || e.key === 'PageUp') { e.preventDefault(); view.goLeft ? view.goLeft() : view.prev(); }
        else if (e.key === 'ArrowRight' || e.key === 'PageDown') { e.preventDefault(); view.goRight ? view.goRight() : view.next(); }
    };
    view.addEventListener('load', e => {
        const doc = e.detail.doc;
        doc.addEventListener('keydown', onKey);
        if (!doc.documentElement.lang && lang) doc.documentElement.lang = lang;
    });
    bookEl.addEventListener('keydown', onKey);

    main.querySelector('#page-prev').addEventListener('click', () => view.prev());
    main.querySelector('#page-next').addEventListener('click', () => view.next());
    main.querySelector('#font-smaller').addEventListener('click', () => {
        const i = FONT_SIZES.indexOf(prefs.fontSize);
        prefs = { ...prefs, fontSize: FONT_SIZES[Math.max(0, (i < 0 ? 2 : i) - 1)] };
        store.setReaderPrefs(prefs);
        applyStyles();
    });
    main.querySelector('#font-larger').addEventListener('click', () => {
        const i = FONT_SIZES.indexOf(prefs.fontSize);
        prefs = { ...prefs, fontSize: FONT_SIZES[Math.min(FONT_SIZES.length - 1, (i < 0 ? 2 : i) + 1)] };
        store.setReaderPrefs(prefs);
        applyStyles();
    });
    for (const radio of main.querySelectorAll('input[name=theme]')) {
        radio.addEventListener('change', () => {
            prefs = { ...prefs, theme: radio.value };
            store.setReaderPrefs(prefs);
            applyStyles();
        });
    }

    // table of contents: a disclosure (button + list of buttons)
    const toc = main.querySelector('#toc');
    const tocToggle = main.querySelector('#toc-toggle');
    const items = [];
    const flatten = (list, depth) => {
        for (const item of list || []) {
            items.push({ label: (item.label || '').trim(), href: item.href, depth });
            flatten(item.subitems, depth + 1);
        }
    };
    flatten(view.book.toc, 0);
    mount(main.querySelector('#toc-list'), items.map((item, i) => html`<li class="depth-${Math.min(item.depth, 3)}">
        <button type="button" class="toc-item" data-toc="${i}"${attr('lang', lang)}>${item.label}</button></li>`));
    if (items.length === 0) tocToggle.hidden = true;
    tocToggle.addEventListener('click', () => {
        const open = tocToggle.getAttribute('aria-expanded') === 'true';
        tocToggle.setAttribute('aria-expanded', String(!open));
        toc.hidden = open;
        if (!open) toc.querySelector('button')?.focus();
    });
    toc.addEventListener('click', async e => {
        const b = e.target.closest('[data-toc]');
        if (!b) return;
        await view.goTo(items[Number(b.dataset.toc)].href);
        tocToggle.setAttribute('aria-expanded', 'false');
        toc.hidden = true;
        tocToggle.focus();
    });
    toc.addEventListener('keydown', e => {
        if (e.key === 'Escape') {
            tocToggle.setAttribute('aria-expanded', 'false');
            toc.hidden = true;
            tocToggle.focus();
        }
    });

    await view.init({ lastLocation: saved && saved.cfi, showTextStart: !saved });
    status.textContent = '';
    status.classList.remove('loading');

    return {
        cleanup() {
            try { view.close(); } catch { /* already closed */ }
            view.remove();
        },
    };
}
