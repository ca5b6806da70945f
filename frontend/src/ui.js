// Pieces several views share: title cards, availability and quota texts,
// gateway error messages, and the borrow dialog.

import { html, attr, mount } from './dom.js';
import { bcp47, lang3, media } from './opds.js';
import {
    quotaFor, budgetState, errorInfo, quotaRows, borrowableSet,
} from './availability.js';
import * as api from './api.js';

export function mediumName(app, medium) {
    return app.t(medium === 'audio' ? 'medium.audio' : 'medium.ebook');
}

function mediaBadges(app, list) {
    return html`<ul class="badges" aria-label="${app.t('card.formats')}">${list.map(m =>
        html`<li class="badge badge-${m}">${mediumName(app, m)}</li>`)}</ul>`;
}

// A title card from a parsed publication or a search document.
export function card(app, item, { headingLevel = 3, access = null } = {}) {
    const doc = 't' in item ? item : null;
    const id = doc ? doc.id : item.id;
    const title = doc ? doc.t : item.title;
    const authors = doc ? doc.a : item.authors.map(a => a.name).join(', ');
    const lang = bcp47(doc ? doc.l : item.language);
    const cover = doc ? doc.c : item.cover;
    const list = doc ? String(doc.m || '').split(' ').filter(Boolean) : media(item);
    const sources = doc ? String(doc.v || '').split(' ') : item.sources.map(s => `${s.vendor}:${s.medium}`);
    const mine = access && sources.some(s => access.has(s));
    const h = `h${Number(headingLevel)}`;   // a tag name: h2..h4, escaping leaves it as it is
    return html`<li class="card">
        <a class="card-link" href="#/title/${encodeURIComponent(id)}" id="card-${id}">
          ${cover ? html`<img class="cover" src="${cover}" alt="" loading="lazy" width="120" height="180">`
            : html`<span class="cover cover-none" aria-hidden="true"></span>`}
          <span class="card-text">
            <${h} class="card-title"${attr('lang', lang)}>${title}</${h}>
            ${authors ? html`<span class="card-author">${authors}</span>` : ''}
          </span>
        </a>
        ${mediaBadges(app, list)}
        ${mine ? html`<p class="card-mine">${app.t('card.availableToYou')}</p>` : ''}
      </li>`;
}

export function languageLabel(app, tag) {
    return app.i18n.languageName(lang3(tag));
}

export function quotaText(app, medium, quota) {
    if (quota.unlimited) return app.t(medium === 'audio' ? 'quota.unlimited.audio' : 'quota.unlimited.ebook');
    return app.t(medium === 'audio' ? 'quota.left.audio' : 'quota.left.ebook',
        { count: quota.left, limit: quota.limit, used: quota.used });
}

export function resetText(app, quota) {
    if (!quota.resetsAt) return '';
    return app.t('quota.resets', { date: app.i18n.formatDate(quota.resetsAt) });
}

export function budgetText(app, me) {
    const b = budgetState(me);
    if (b.state === 'none') return '';
    const date = b.resetsAt ? app.i18n.formatDate(b.resetsAt) : '';
    return app.t(`budget.${b.state}`, { date });
}

// The summary of limits the patron sees on "my loans" and the home page.
export function limitsBlock(app, me, { headingLevel = 2 } = {}) {
    const rows = quotaRows(me);
    const h = headingLevel === 2 ? 'h2' : 'h3';
    const heading = app.t('loans.limits');
    const budget = budgetText(app, me);
    const q = me.quota || {};
    return html`<section class="limits" aria-labelledby="limits-heading">
        ${h === 'h2' ? html`<h2 id="limits-heading">${heading}</h2>` : html`<h3 id="limits-heading">${heading}</h3>`}
        ${rows.length === 0 ? html`<p>${app.t('loans.noAccess')}</p>` : html`
        <ul class="quota-list">
          ${rows.map(r => html`<li id="quota-${r.medium}">
            <span class="quota-medium">${mediumName(app, r.medium)}</span>
            <span class="quota-text">${quotaText(app, r.medium, r)}</span>
            ${r.unlimited ? '' : html`<meter min="0" max="${r.limit}" value="${r.used}"
                optimum="0" low="${r.limit - 0.5}" high="${r.limit - 0.5}"
                aria-label="${app.t('quota.meter', { medium: mediumName(app, r.medium) })}"
                aria-valuetext="${app.t('quota.used', { count: r.used, limit: r.limit })}"></meter>`}
          </li>`)}
        </ul>`}
        ${q.resets_at ? html`<p class="quota-reset" id="quota-reset">${app.t('quota.resets',
            { date: app.i18n.formatDate(q.resets_at) })}${q.period_days ? ' ' + app.t('quota.period',
            { count: q.period_days }) : ''}</p>` : ''}
        ${budget ? html`<p class="budget" id="budget-state">${budget}</p>` : ''}
      </section>`;
}

// A gateway refusal in words, with what the patron can do about it.
export function errorBlock(app, info, { id = 'error-message', returnTo } = {}) {
    const t = app.t;
    let text = info.code === 'quota_exhausted' && ['ebook', 'audio'].includes(info.medium)
        ? t(`status.quota_exhausted.${info.medium}`) : t(info.key);
    if (info.action === 'wait' && info.resetsAt) {
        text += ' ' + t('quota.again', { date: app.i18n.formatDate(info.resetsAt) });
    }
    let action = '';
    const back = encodeURIComponent(returnTo || location.hash || '#/');
    if (info.action === 'signin') {
        action = html`<a class="button-link" href="#/signin?return=${back}">${t('error.action.signin')}</a>`;
    } else if (info.action === 'retry') {
        action = html`<button type="button" class="button" data-action="retry">${t('error.action.retry')}</button>`;
    } else if (info.action === 'contact') {
        action = html`<p>${t('error.action.contact')}</p>`;
    }
    return html`<div class="message message-error" role="alert" id="${id}" data-code="${info.code}">
        <p>${text}</p>${action}</div>`;
}

// The borrow dialog: what the loan uses of the quota and the library's
// budget, before anything is counted.  Resolves with the loan, or null.
export function confirmBorrow(app, pub, status) {
    const t = app.t;
    const dialog = document.getElementById('dialog');
    const quota = quotaFor(app.me, status.medium);
    const lines = [];
    if (quota.unlimited) lines.push(quotaText(app, status.medium, quota));
    else {
        lines.push(quotaText(app, status.medium, quota));
        lines.push(t('borrow.after', { count: quota.left - 1 }));
        if (quota.resetsAt) lines.push(resetText(app, quota));
    }
    const budget = budgetText(app, app.me);
    if (budget) lines.push(budget);
    mount(dialog, html`<form method="dialog" class="dialog-body">
        <h2 id="dialog-title">${t(status.medium === 'audio' ? 'borrow.question.audio' : 'borrow.question.ebook',
            { title: pub.title })}</h2>
        <ul class="dialog-facts">${lines.map(l => html`<li>${l}</li>`)}</ul>
        <p>${t('borrow.howLong')}</p>
        <div class="buttons">
          <button type="submit" class="button" value="borrow" id="borrow-confirm">${t('borrow.confirm')}</button>
          <button type="submit" class="button-quiet" value="cancel" id="borrow-cancel">${t('borrow.cancel')}</button>
        </div>
      </form>`);
    dialog.setAttribute('aria-labelledby', 'dialog-title');
    return new Promise(resolve => {
        dialog.addEventListener('close', () => resolve(dialog.returnValue === 'borrow'), { once: true });
        dialog.returnValue = '';
        dialog.showModal();
        document.getElementById('borrow-confirm').focus();
    });
}

export async function borrow(app, source) {
    const r = await api.borrow(app.token, source.borrow);
    if (r.ok) return { ok: true, loan: (r.body && r.body.loan) || null };
    return { ok: false, error: errorInfo(r.status, r.body) };
}

// What the patron may borrow now (see borrowableSet); null when signed
// out.
export function accessOf(app) {
    return app.me ? borrowableSet(app.me) : null;
}

// Sign-in notices carried to the next view (an expired session...).
export function noticeBlock(app) {
    const n = app.notice;
    if (!n) return '';
    app.notice = null;
    return errorBlock(app, n, { id: 'notice' });
}
