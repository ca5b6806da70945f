// Home: what this is, the patron's limits at a glance, and the catalog's
// groups (new, popular, for children and young people, audiobooks).

import { html, mount } from '../dom.js';
import { parseFeed } from '../opds.js';
import * as api from '../api.js';
import { card, limitsBlock, accessOf, noticeBlock } from '../ui.js';

export const GROUP_IDS = ['new', 'popular', 'young', 'audio'];

export function groupId(identifier, href) {
    const m = /urn:digin:list:([a-z]+)/.exec(identifier || '') || /\/([a-z]+)\/1\.json$/.exec(href || '');
    return m ? m[1] : null;
}

export async function render(app, route, main) {
    const t = app.t;
    let root = null;
    try {
        root = parseFeed(await api.getStatic('/catalog/root.json'));
    } catch {
        root = null;
    }
    const access = accessOf(app);
    const groups = root ? root.groups.filter(g => GROUP_IDS.includes(groupId(g.identifier, g.href))) : [];
    mount(main, html`
      <h1>${t('home.title')}</h1>
      ${noticeBlock(app)}
      <div class="intro">
        <p>${t('home.intro')}</p>
        <ol class="steps">
          <li>${t('home.step1')}</li>
          <li>${t('home.step2')}</li>
          <li>${t('home.step3')}</li>
        </ol>
        ${app.me ? '' : html`<p><a class="button-link" href="#/signin" id="home-sign-in">${t('home.signIn')}</a></p>`}
      </div>
      <form class="search-form" role="search" id="home-search" action="#/search">
        <label for="home-q">${t('search.label')}</label>
        <div class="search-row">
          <input type="search" id="home-q" name="q" autocomplete="off" spellcheck="false">
          <button type="submit" class="button">${t('search.submit')}</button>
        </div>
      </form>
      ${app.me ? limitsBlock(app, app.me) : ''}
      ${root ? '' : html`<p class="message message-error" role="alert">${t('catalog.unavailable')}</p>`}
      ${groups.map(g => {
          const id = groupId(g.identifier, g.href);
          return html`<section class="group" aria-labelledby="group-${id}">
            <div class="group-head">
              <h2 id="group-${id}">${t(`group.${id}`)}</h2>
              <a href="#/list/${id}" id="more-${id}">${t('group.more', { count: g.numberOfItems ?? g.publications.length })}<span class="visually-hidden">: ${t(`group.${id}`)}</span></a>
            </div>
            <ul class="cards">${g.publications.map(p => card(app, p, { access }))}</ul>
          </section>`;
      })}`);
    main.querySelector('#home-search').addEventListener('submit', e => {
        e.preventDefault();
        const q = main.querySelector('#home-q').value.trim();
        app.go(q ? `#/search?q=${encodeURIComponent(q)}` : '#/search');
    });
}
