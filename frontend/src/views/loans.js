// My loans: active loans with a way to read or listen, the quota used
// and left for each medium, when it resets, and the library's budget.

import { html, attr, mount } from '../dom.js';
import { bcp47 } from '../opds.js';
import { errorBlock, limitsBlock, mediumName, noticeBlock } from '../ui.js';
import { loadPublication, openHref } from './title.js';

export async function render(app, route, main) {
    const t = app.t;
    if (!app.token) {
        mount(main, html`<h1>${t('loans.title')}</h1>
          ${noticeBlock(app)}
          <p>${t('loans.signInFirst')}</p>
          <p><a class="button-link" href="#/signin?return=${encodeURIComponent('#/loans')}" id="loans-sign-in">${t('auth.signIn')}</a></p>`);
        return;
    }
    await app.refreshMe();
    if (!app.me) {
        mount(main, html`<h1>${t('loans.title')}</h1>
          ${app.meError ? errorBlock(app, app.meError) : noticeBlock(app)}`);
        main.querySelector('[data-action=retry]')?.addEventListener('click', () => app.go('#/loans'));
        return;
    }
    const me = app.me;
    const now = Date.now();
    const loans = (me.loans || []).filter(l => !l.until || Date.parse(l.until) > now)
        .sort((a, b) => String(a.until).localeCompare(String(b.until)));
    const pubs = await Promise.all(loans.map(l => loadPublication(l.title).catch(() => null)));
    const lib = me.library || {};
    mount(main, html`
      <h1>${t('loans.title')}</h1>
      ${noticeBlock(app)}
      ${me.blocked ? html`<p class="message message-error" id="blocked">${t('status.blocked')}</p>` : ''}
      ${lib.status === 'suspended' ? html`<p class="message message-error" id="suspended">${t('status.suspended')}</p>` : ''}
      <p id="library-line">${lib.name ? t('loans.library', { library: lib.name }) : t('loans.noLibrary')}</p>
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">${t('loans.active')}</h2>
        ${loans.length === 0 ? html`<p id="no-loans">${t('loans.none')} <a href="#/">${t('loans.find')}</a></p>` : html`
        <ul class="loan-list" id="loan-list">
          ${loans.map((l, i) => {
              const p = pubs[i];
              const title = p ? p.title : l.title;
              const status = { vendor: l.vendor, medium: l.medium };
              return html`<li class="loan" id="loan-${l.vendor}-${l.title}">
                ${p && p.cover ? html`<img class="cover cover-small" src="${p.cover}" alt="" width="60" height="90">` : ''}
                <div>
                  <h3${attr('lang', p ? bcp47(p.language) : null)}><a href="#/title/${encodeURIComponent(l.title)}">${title}</a></h3>
                  <p>${mediumName(app, l.medium)}${l.until ? ' · ' + t('loans.until', { date: app.i18n.formatDate(l.until) }) : ''}</p>
                  <a class="button-link" href="${openHref(status, l.title)}">${
                    t(l.medium === 'audio' ? 'action.listen' : 'action.read')}<span class="visually-hidden">: ${title}</span></a>
                </div>
              </li>`;
          })}
        </ul>`}
      </section>
      ${limitsBlock(app, me)}`);
}
