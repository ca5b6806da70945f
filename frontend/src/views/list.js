// One of the catalog's lists (an OPDS 2.0 feed, page by page).

import { html, mount } from '../dom.js';
import { parseFeed } from '../opds.js';
import * as api from '../api.js';
import { card, accessOf } from '../ui.js';
import { GROUP_IDS } from './home.js';

const LISTS = ['all', ...GROUP_IDS];

export async function render(app, route, main) {
    const t = app.t;
    const id = LISTS.includes(route.parts[0]) ? route.parts[0] : 'all';
    const page = Math.max(1, parseInt(route.params.get('page') || '1', 10) || 1);
    let feed;
    try {
        feed = parseFeed(await api.getStatic(`/catalog/${id}/${page}.json`));
    } catch {
        mount(main, html`<h1>${t(`group.${id}`)}</h1>
            <p class="message message-error" role="alert">${t('catalog.unavailable')}</p>`);
        return;
    }
    const pages = feed.numberOfItems && feed.itemsPerPage ? Math.ceil(feed.numberOfItems / feed.itemsPerPage) : 1;
    const access = accessOf(app);
    mount(main, html`
      <h1>${t(`group.${id}`)}</h1>
      <p id="list-count">${t('list.count', { count: feed.numberOfItems ?? feed.publications.length })}
        ${pages > 1 ? t('list.page', { page, pages }) : ''}</p>
      <ul class="cards cards-wide">${feed.publications.map(p => card(app, p, { headingLevel: 2, access }))}</ul>
      ${pages > 1 ? html`<nav class="pager" aria-label="${t('list.pages')}">
        ${feed.previous ? html`<a href="#/list/${id}?page=${page - 1}" rel="prev" id="page-prev">${t('list.previous')}</a>` : ''}
        ${feed.next ? html`<a href="#/list/${id}?page=${page + 1}" rel="next" id="page-next">${t('list.next')}</a>` : ''}
      </nav>` : ''}`);
}
