// Sign-in: with the library's login service (OIDC, authorization code
// and PKCE) and, in the demo, as one of the demo patrons.

import { html, attr, mount } from '../dom.js';
import * as api from '../api.js';
import * as auth from '../auth.js';
import { noticeBlock } from '../ui.js';

function safeReturn(value) {
    return typeof value === 'string' && /^#\/[A-Za-z0-9/_%?=&.-]*$/.test(value) ? value : '#/';
}

// The language of a demo patron's note: "lang" in patrons.json (a
// BCP 47 tag), else none (the page's language).
function noteLang(p) {
    return typeof p.lang === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(p.lang) ? p.lang : null;
}

export async function render(app, route, main) {
    const t = app.t;
    const returnTo = safeReturn(route.params.get('return'));
    const oidc = auth.oidcConfigured(app.config);
    let patrons = [];
    let demoError = false;
    if (app.config.demo) {
        try {
            const list = await api.getStatic('/demo/patrons.json');
            patrons = Array.isArray(list) ? list.filter(p => p && typeof p.token === 'string') : [];
        } catch {
            demoError = true;
        }
    }
    mount(main, html`
      <h1>${t('signin.title')}</h1>
      ${noticeBlock(app)}
      ${app.token ? html`<p class="message message-ok" id="already">${t('signin.already')}</p>` : ''}
      <p>${t('signin.intro')}</p>
      ${oidc ? html`<section aria-labelledby="oidc-heading">
          <h2 id="oidc-heading">${t('signin.library')}</h2>
          <p>${t('signin.libraryText')}</p>
          <button type="button" class="button" id="oidc-sign-in">${t('signin.libraryButton')}</button>
        </section>` : ''}
      ${app.config.demo ? html`<section aria-labelledby="demo-heading">
          <h2 id="demo-heading">${t('signin.demo')}</h2>
          <p>${t('signin.demoText')}</p>
          ${demoError ? html`<p class="message message-error" role="alert">${t('signin.demoUnavailable')}</p>` : ''}
          <ul class="patrons">
            ${patrons.map((p, i) => html`<li>
              <button type="button" class="patron" data-patron="${i}" id="patron-${p.id || i}">
                <span class="patron-name">${p.name || p.id}</span>
                ${p.library ? html`<span class="patron-library">${p.library}</span>` : ''}
                ${p.note ? html`<span class="patron-note"${attr('lang', noteLang(p))}>${p.note}</span>` : ''}
              </button></li>`)}
          </ul>
        </section>` : ''}
      ${!oidc && !app.config.demo ? html`<p class="message message-error">${t('signin.notConfigured')}</p>` : ''}`);
    main.querySelector('#oidc-sign-in')?.addEventListener('click', e => {
        e.currentTarget.disabled = true;
        auth.startOidc(app.config, { lang: app.i18n.lang, returnTo });
    });
    for (const button of main.querySelectorAll('[data-patron]')) {
        button.addEventListener('click', async () => {
            const p = patrons[Number(button.dataset.patron)];
            await app.signIn(p.token, p.name || p.id);
            app.announce(t('auth.signedIn', { name: p.name || p.id }));
            app.go(returnTo);
        });
    }
}
