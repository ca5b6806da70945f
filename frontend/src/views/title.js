// A title: cover, description, narrator, duration, series; and for each
// source (vendor and medium) what the patron may do, with the quota and
// the library's budget shown before borrowing.

import { html, attr, mount } from '../dom.js';
import { parsePublication, bcp47 } from '../opds.js';
import { titleStatus, canBorrow } from '../availability.js';
import * as api from '../api.js';
import {
    mediumName, languageLabel, quotaText, resetText, budgetText, errorBlock, confirmBorrow, borrow,
    noticeBlock,
} from '../ui.js';

export async function loadPublication(id) {
    return parsePublication(await api.getStatic(`/catalog/publications/${encodeURIComponent(id)}.json`));
}

export function openHref(status, id) {
    return `#/${status.medium === 'audio' ? 'listen' : 'read'}/${encodeURIComponent(status.vendor)}/${encodeURIComponent(id)}`;
}

function sourceBlock(app, pub, s, duplicated) {
    const t = app.t;
    const medium = mediumName(app, s.medium);
    const sid = `${s.vendor}-${s.medium}`;
    const heading = duplicated ? `${medium} (${s.vendor})` : medium;
    const back = encodeURIComponent(`#/title/${pub.id}`);
    // what the patron may do: the status, then (after the outcome of a
    // loan, so that the focus moves on from the outcome to it) the action
    let body;
    let action = '';
    switch (s.code) {
    case 'signed_out':
        body = html`<p>${t(s.medium === 'audio' ? 'status.signed_out.audio' : 'status.signed_out.ebook')}</p>`;
        action = html`<a class="button-link" href="#/signin?return=${back}" id="signin-${sid}">${t('auth.signIn')}</a>`;
        break;
    case 'on_loan':
        body = html`<p class="status-ok">${s.until ? t('status.on_loan', { date: app.i18n.formatDate(s.until) })
            : t('status.on_loan.nodate')}</p>`;
        action = html`<a class="button-link" href="${openHref(s, pub.id)}" id="open-${sid}">${
            t(s.medium === 'audio' ? 'action.listen' : 'action.read')}</a>`;
        break;
    case 'available':
    case 'unavailable':
        body = html`<p class="status-ok">${t(s.medium === 'audio' ? 'status.available.audio' : 'status.available.ebook')}</p>
          ${s.code === 'unavailable' ? html`<p>${t('status.unavailable')}</p>` : ''}
          <ul class="facts-list">
            <li>${quotaText(app, s.medium, s.quota)}${s.quota.unlimited ? '' : ' ' + resetText(app, s.quota)}</li>
            ${budgetText(app, app.me) ? html`<li>${budgetText(app, app.me)}</li>` : ''}
          </ul>`;
        action = html`<button type="button" class="button" data-borrow="${sid}" id="borrow-${sid}">${
            t(s.medium === 'audio' ? 'action.borrow.audio' : 'action.borrow.ebook')}</button>`;
        break;
    case 'quota_exhausted':
        body = html`<p>${t(s.medium === 'audio' ? 'status.quota_exhausted.audio' : 'status.quota_exhausted.ebook')}
            ${s.quota.resetsAt ? t('quota.again', { date: app.i18n.formatDate(s.quota.resetsAt) }) : ''}</p>`;
        break;
    case 'budget_exhausted':
        body = html`<p>${t('status.budget_exhausted')}
            ${s.budget.resetsAt ? t('quota.again', { date: app.i18n.formatDate(s.budget.resetsAt) }) : ''}</p>`;
        break;
    case 'no_access':
        body = html`<p>${t(s.medium === 'audio' ? 'status.no_access.audio' : 'status.no_access.ebook', {
            library: (app.me && app.me.library && app.me.library.name) || t('status.yourLibrary') })}</p>`;
        break;
    default: // blocked, suspended
        body = html`<p>${t(`status.${s.code}`)}</p>`;
    }
    return html`<div class="source" id="source-${sid}">
        <h3>${heading}</h3>
        ${body}
        <div class="source-result" id="result-${sid}" tabindex="-1"></div>
        ${action}
      </div>`;
}

function facts(app, pub) {
    const t = app.t;
    const rows = [];
    if (pub.authors.length) rows.push([t('title.author'), pub.authors.map(a => a.name).join(', ')]);
    if (pub.narrators.length) rows.push([t('title.narrator'), pub.narrators.map(a => a.name).join(', ')]);
    if (pub.translators.length) rows.push([t('title.translator'), pub.translators.map(a => a.name).join(', ')]);
    if (pub.illustrators.length) rows.push([t('title.illustrator'), pub.illustrators.map(a => a.name).join(', ')]);
    if (pub.duration) rows.push([t('title.duration'), app.i18n.formatDuration(pub.duration)]);
    if (pub.series) {
        const q = encodeURIComponent(pub.series.name);
        rows.push([t('title.series'), html`<a href="#/search?q=${q}&amp;sort=title" lang="${bcp47(pub.language)}">${pub.series.name}</a>${
            pub.series.position !== undefined ? ' ' + t('title.seriesPosition', { position: pub.series.position }) : ''}`]);
    }
    if (pub.language) rows.push([t('title.language'), languageLabel(app, pub.language)]);
    if (pub.audience) rows.push([t('title.audience'), t(`audience.${pub.audience}`)]);
    if (pub.published) rows.push([t('title.published'), /^\d{4}-\d{2}-\d{2}/.test(pub.published)
        ? app.i18n.formatDate(pub.published.slice(0, 10)) : pub.published]);
    if (pub.publisher) rows.push([t('title.publisher'), pub.publisher]);
    return html`<dl class="facts">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

export async function render(app, route, main) {
    const t = app.t;
    const id = route.parts[0] || '';
    let pub;
    try {
        pub = await loadPublication(id);
    } catch {
        mount(main, html`<h1>${t('title.missing')}</h1><p>${t('title.missingText')}</p>
            <p><a href="#/search">${t('nav.search')}</a></p>`);
        return;
    }
    const lang = bcp47(pub.language);

    function draw() {
        const statuses = titleStatus(app.me, pub);
        const mediaCount = {};
        for (const s of statuses) mediaCount[s.medium] = (mediaCount[s.medium] || 0) + 1;
        mount(main, html`
          <article class="title-page">
            <div class="title-head">
              ${pub.cover ? html`<img class="cover cover-large" src="${pub.cover}" alt="" width="200" height="300">` : ''}
              <div class="title-main">
                <h1${attr('lang', lang)}>${pub.title}</h1>
                ${pub.subtitle ? html`<p class="subtitle"${attr('lang', lang)}>${pub.subtitle}</p>` : ''}
                ${facts(app, pub)}
              </div>
            </div>
            ${noticeBlock(app)}
            <section class="access" aria-labelledby="access-heading">
              <h2 id="access-heading">${t('title.access')}</h2>
              ${app.meError && app.token ? errorBlock(app, app.meError, { id: 'me-error' }) : ''}
              ${statuses.map(s => sourceBlock(app, pub, s, mediaCount[s.medium] > 1))}
            </section>
            ${pub.description ? html`<section aria-labelledby="about-heading">
              <h2 id="about-heading">${t('title.about')}</h2>
              <p class="description"${attr('lang', lang)}>${pub.description}</p>
              ${pub.subjects.length ? html`<p>${t('title.subjects')}: <span${attr('lang', lang)}>${pub.subjects.join(', ')}</span></p>` : ''}
            </section>` : ''}
          </article>`);
        for (const button of main.querySelectorAll('[data-borrow]')) {
            const status = statuses.find(s => `${s.vendor}-${s.medium}` === button.dataset.borrow);
            button.addEventListener('click', () => onBorrow(status, button));
        }
        main.querySelector('[data-action=retry]')?.addEventListener('click', async () => {
            await app.refreshMe();
            draw();
        });
    }

    async function onBorrow(status, button) {
        const sid = `${status.vendor}-${status.medium}`;
        if (!(await confirmBorrow(app, pub, status))) {
            button.focus();
            return;
        }
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
        const result = await borrow(app, status.source);
        if (result.ok) {
            if (result.loan && result.loan.until) {
                app.rememberLoan(pub.id, status.vendor, status.medium, result.loan.until);
            }
            await app.refreshMe();
            draw();
            const box = main.querySelector(`#result-${sid}`);
            const until = (result.loan && result.loan.until) || null;
            mount(box, html`<p class="message message-ok">${until
                ? t('borrow.done', { date: app.i18n.formatDate(until) }) : t('borrow.done.nodate')}</p>`);
            box.focus();
            app.announce(box.textContent.trim());
        } else {
            button.disabled = false;
            button.removeAttribute('aria-busy');
            const box = main.querySelector(`#result-${sid}`);
            mount(box, errorBlock(app, result.error, { id: `error-${sid}`, returnTo: `#/title/${pub.id}` }));
            box.querySelector('[data-action=retry]')?.addEventListener('click', () => onBorrow(status, button));
            box.focus();
        }
    }

    draw();
}
