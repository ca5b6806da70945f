// The app shell: configuration, language, sign-in state, the header and
// footer, and the router (#/ routes, so any static server will do).
// Views are modules in views/; the reader and the player, and the
// search library, are loaded only when their view is opened.

import { createI18n, pickLanguage, LANGUAGES } from './i18n.js';
import nb from './i18n/nb.js';
import { html, attr, mount } from './dom.js';
import * as auth from './auth.js';
import * as api from './api.js';
import * as store from './store.js';

const VIEWS = {
    home: () => import('./views/home.js'),
    search: () => import('./views/search.js'),
    list: () => import('./views/list.js'),
    title: () => import('./views/title.js'),
    loans: () => import('./views/loans.js'),
    read: () => import('./views/reader.js'),
    listen: () => import('./views/player.js'),
    signin: () => import('./views/signin.js'),
    language: () => import('./views/language.js'),
    help: () => import('./views/help.js'),
    accessibility: () => import('./views/accessibility.js'),
};

const CATALOGS = {
    nb: async () => nb,
    nn: async () => (await import('./i18n/nn.js')).default,
    se: async () => (await import('./i18n/se.js')).default,
    en: async () => (await import('./i18n/en.js')).default,
};

export function parseRoute(hash) {
    const h = String(hash || '').replace(/^#/, '');
    if (!h.startsWith('/')) return { name: 'home', parts: [], params: new URLSearchParams() };
    const [path, query = ''] = h.slice(1).split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const name = parts.shift() || 'home';
    return { name: VIEWS[name] ? name : 'notfound', parts, params: new URLSearchParams(query) };
}

const app = {
    config: {},
    i18n: null,
    t: key => key,
    token: null,
    me: null,          // /api/me, or null when signed out
    meError: null,     // errorInfo-like when /api/me failed
    notice: null,      // a message for the next view (e.g. sign-in expired)
    route: null,
    view: null,
};

function setMeta() {
    document.documentElement.lang = app.i18n.lang;
}

async function loadLanguage(code) {
    const catalog = await CATALOGS[code]();
    app.i18n = createI18n(catalog, code, code === 'nb' ? null : nb);
    app.t = app.i18n.t;
    setMeta();
}

app.setLanguage = async code => {
    store.setLanguage(code);
    await loadLanguage(code);
    renderChrome();
    await render({ focus: true });
};

app.refreshMe = async () => {
    app.token = auth.currentToken(app.config);
    app.me = null;
    app.meError = null;
    if (!app.token) return;
    const r = await api.getMe(app.token);
    if (r.ok && r.body) {
        app.me = withLocalLoans(r.body);
    } else {
        const { errorInfo } = await import('./availability.js');
        app.meError = errorInfo(r.status, r.body);
        if (app.meError.action === 'signin') {
            auth.signOut(app.config);
            app.token = null;
            app.notice = app.meError;
        }
    }
};

// Loans the gateway confirmed (2xx) in this browser, kept until they
// end: shown even while /api/me does not list them.  The gateway
// answers 2xx without a new record for a title the patron already has
// on loan from another vendor; the vendor's loan still stands.
function localLoansKey(me) {
    return `digin:loans:${me.issuer || ''} ${me.patron || ''}`;
}

function withLocalLoans(me) {
    let local = [];
    try {
        local = JSON.parse(localStorage.getItem(localLoansKey(me)) || '[]');
    } catch { /* unreadable: none */ }
    const now = Date.now();
    local = local.filter(l => l && l.until && Date.parse(l.until) > now);
    localStorage.setItem(localLoansKey(me), JSON.stringify(local));
    const loans = Array.isArray(me.loans) ? [...me.loans] : [];
    for (const l of local) {
        if (!loans.some(x => x.title === l.title && x.vendor === l.vendor)) loans.push(l);
    }
    return { ...me, loans };
}

app.rememberLoan = (title, vendor, medium, until) => {
    if (!app.me || !until) return;
    const key = localLoansKey(app.me);
    let local = [];
    try { local = JSON.parse(localStorage.getItem(key) || '[]'); } catch { /* none */ }
    local = local.filter(l => !(l.title === title && l.vendor === vendor));
    local.push({ title, vendor, medium, until });
    localStorage.setItem(key, JSON.stringify(local));
};

app.signIn = async (token, name) => {
    auth.signInWithToken(app.config, token, name);
    await app.refreshMe();
    renderChrome();
};

app.signOut = async () => {
    if (app.me) localStorage.removeItem(localLoansKey(app.me));
    auth.signOut(app.config);
    app.token = null;
    app.me = null;
    renderChrome();
    app.announce(app.t('auth.signedOut'));
    if (location.hash.startsWith('#/loans') || location.hash.startsWith('#/read')
        || location.hash.startsWith('#/listen')) location.hash = '#/';
    else await render({ focus: true });
};

app.announce = message => {
    const region = document.getElementById('status');
    region.textContent = '';
    // a new text node, so that the same message is read again
    setTimeout(() => { region.textContent = message; }, 50);
};

app.go = hash => {
    if (location.hash === hash) render({ focus: true });
    else location.hash = hash;
};

app.setTitle = heading => {
    document.title = heading ? `${heading} – ${app.t('app.name')}` : app.t('app.name');
};

const GLOBE = html`<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20"><circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M2.5 12h19M12 2.5c3 3 3 16 0 19M12 2.5c-3 3-3 16 0 19" fill="none" stroke="currentColor" stroke-width="2"/></svg>`;

function renderChrome() {
    const t = app.t;
    const signedIn = Boolean(app.token);
    const name = signedIn ? auth.displayName(app.token) : '';
    const current = app.route ? app.route.name : 'home';
    const navLink = (name, href, label) =>
        html`<li><a href="${href}"${attr('aria-current', current === name ? 'page' : null)}>${label}</a></li>`;
    mount(document.getElementById('header'), html`
        <a class="skip-link" href="#main" id="skip-link">${t('nav.skip')}</a>
        <div class="bar">
          <a class="brand" href="#/"><span class="brand-name">${t('app.name')}</span>
            <span class="brand-tagline">${t('app.tagline')}</span></a>
          <div class="account">
            ${signedIn ? html`
              <span class="who" id="who">${t('auth.signedInAs', { name: name || t('auth.patron') })}${
                app.me && app.me.library ? html`<span class="library">${app.me.library.name}</span>` : ''}</span>
              <button type="button" class="button-quiet" id="sign-out">${t('auth.signOut')}</button>`
            : html`<a class="button-link" href="#/signin" id="sign-in-link">${t('auth.signIn')}</a>`}
            <a href="#/language" class="language-link" id="language-link">${GLOBE}${t('nav.language')}</a>
          </div>
        </div>
        <nav aria-label="${t('nav.label')}">
          <ul>
            ${navLink('home', '#/', t('nav.home'))}
            ${navLink('search', '#/search', t('nav.search'))}
            ${navLink('loans', '#/loans', t('nav.loans'))}
            ${navLink('help', '#/help', t('nav.help'))}
          </ul>
        </nav>`);
    mount(document.getElementById('footer'), html`
        <ul>
          <li><a href="#/accessibility">${t('nav.accessibility')}</a></li>
          <li><a href="#/help">${t('nav.help')}</a></li>
          <li><a href="#/language">${t('nav.language')}</a></li>
        </ul>
        <p>${t('footer.privacy')}</p>`);
    const out = document.getElementById('sign-out');
    if (out) out.addEventListener('click', () => app.signOut());
    document.getElementById('skip-link').addEventListener('click', e => {
        e.preventDefault();
        const h1 = document.querySelector('#main h1');
        (h1 || document.getElementById('main')).focus();
    });
}

let renderSeq = 0;

async function render({ focus }) {
    const seq = ++renderSeq;
    const route = parseRoute(location.hash);
    if (app.view && app.view.cleanup) {
        try { app.view.cleanup(); } catch { /* a view that failed to clean up must not stop the next */ }
    }
    app.view = null;
    app.route = route;
    renderChrome();
    const main = document.getElementById('main');
    main.setAttribute('aria-busy', 'true');
    let view;
    try {
        const mod = route.name === 'notfound' ? await import('./views/notfound.js')
            : await VIEWS[route.name]();
        if (seq !== renderSeq) return;
        view = (await mod.render(app, route, main)) || {};
    } catch (e) {
        if (seq !== renderSeq) return;
        console.error(e);
        mount(main, html`<h1 tabindex="-1">${app.t('error.page.title')}</h1>
            <p>${app.t('error.page.text')}</p>
            <p><a href="#/">${app.t('nav.home')}</a></p>`);
        app.setTitle(app.t('error.page.title'));
        view = {};
    }
    if (seq !== renderSeq) {
        if (view.cleanup) view.cleanup();
        return;
    }
    app.view = view;
    main.removeAttribute('aria-busy');
    const h1 = main.querySelector('h1');
    if (h1) {
        h1.setAttribute('tabindex', '-1');
        app.setTitle(h1.textContent.trim());
        if (focus) h1.focus();
    }
}

async function boot() {
    try {
        app.config = await api.getStatic('/config.json');
    } catch {
        app.config = {};
    }
    const lang = pickLanguage(store.getLanguage(), navigator.languages || [navigator.language]);
    await loadLanguage(lang);
    const result = await auth.completeOidc(app.config);
    if (result && result.error) app.notice = { key: `auth.error.${result.error}`, action: 'signin' };
    await app.refreshMe();
    if (result && result.returnTo) history.replaceState(null, '', result.returnTo);
    window.addEventListener('hashchange', () => {
        const h = location.hash;
        if (h === '#main') return;
        render({ focus: true });
    });
    await render({ focus: Boolean(result && result.returnTo) });
    document.documentElement.classList.add('ready');
}

export { app, LANGUAGES };

boot();
