// Search: results while typing, facets (medium, language, audience,
// "available to me"), sort.  The index (catalog/search.json) and
// MiniSearch are loaded the first time this view opens.

import { html, attr, mount } from '../dom.js';
import * as api from '../api.js';
import { search, loadIndex, filtersFromParams, paramsFromFilters } from '../search.js';
import { card, accessOf } from '../ui.js';

let loaded = null;

export function loadSearch() {
    if (!loaded) {
        loaded = Promise.all([
            import('../../vendor/minisearch/index.js'),
            api.getStatic('/catalog/search.json'),
        ]).then(([mod, data]) => {
            const MiniSearch = mod.default;
            return { MiniSearch, index: loadIndex(MiniSearch, data), facets: data.facets };
        });
        loaded.catch(() => { loaded = null; });
    }
    return loaded;
}

const PAGE = 40;
const MAIN_LANGUAGES = ['nob', 'nno', 'sme', 'eng'];

function radios(app, name, legend, values, current) {
    return html`<fieldset class="facet" id="facet-${name}">
        <legend>${legend}</legend>
        <label class="choice"><input type="radio" name="${name}" value=""${attr('checked', !current)}>
          ${app.t('facet.all')}</label>
        ${values.map(v => html`<label class="choice"><input type="radio" name="${name}" value="${v.value}"${
            attr('checked', current === v.value)}>
          <span${attr('lang', v.lang)}>${v.label}</span> <span class="count" data-facet="${name}" data-value="${v.value}"></span></label>`)}
      </fieldset>`;
}

export async function render(app, route, main) {
    const t = app.t;
    const query = route.params.get('q') || '';
    const filters = filtersFromParams(route.params);
    const sortParam = ['relevance', 'title', 'newest'].includes(route.params.get('sort'))
        ? route.params.get('sort') : '';
    const access = accessOf(app);
    if (!access) filters.mine = false;

    mount(main, html`<h1>${t('search.title')}</h1>
      <p class="loading" id="search-loading">${t('search.loading')}</p>`);
    let s;
    try {
        s = await loadSearch();
    } catch {
        mount(main, html`<h1>${t('search.title')}</h1>
          <p class="message message-error" role="alert">${t('catalog.unavailable')}</p>`);
        return;
    }
    const languages = Object.keys(s.facets.language).sort((a, b) =>
        (MAIN_LANGUAGES.indexOf(a) + 1 || 99) - (MAIN_LANGUAGES.indexOf(b) + 1 || 99)
        || s.facets.language[b] - s.facets.language[a]);

    // the facets are open on wide screens, and whenever one is in use
    const wide = matchMedia('(min-width: 50rem)').matches;
    const active = Boolean(filters.medium || filters.language || filters.audience || filters.mine || sortParam);
    mount(main, html`
      <h1>${t('search.title')}</h1>
      <form class="search-form" role="search" id="search-form">
        <label for="q">${t('search.label')}</label>
        <div class="search-row">
          <input type="search" id="q" name="q" value="${query}" autocomplete="off" spellcheck="false"
                 aria-describedby="search-hint" aria-controls="results">
          <button type="submit" class="button">${t('search.submit')}</button>
        </div>
        <p class="hint" id="search-hint">${t('search.hint')}</p>
      </form>
      <div class="search-layout">
        <details class="facets-box" id="facets-box"${attr('open', wide || active)}>
        <summary><h2 id="facets-heading">${t('facet.title')}</h2></summary>
        <form class="facets" id="facets" aria-labelledby="facets-heading">
          ${radios(app, 'medium', t('facet.medium'), [
              { value: 'ebook', label: t('medium.ebook') }, { value: 'audio', label: t('medium.audio') }],
              filters.medium)}
          ${radios(app, 'language', t('facet.language'), languages.map(l => ({
              value: l, label: app.i18n.languageName(l), lang: null })), filters.language)}
          ${radios(app, 'audience', t('facet.audience'), ['children', 'youth', 'adult']
              .filter(a => s.facets.audience[a]).map(a => ({ value: a, label: t(`audience.${a}`) })),
              filters.audience)}
          <fieldset class="facet" id="facet-mine">
            <legend>${t('facet.access')}</legend>
            <label class="choice"><input type="checkbox" name="mine" id="mine"${attr('checked', filters.mine)}${
                attr('disabled', !access)}${attr('aria-describedby', access ? null : 'mine-hint')}>
              ${t('facet.mine')} <span class="count" data-facet="mine" data-value="1"></span></label>
            ${access ? '' : html`<p class="hint" id="mine-hint">${t('facet.mineSignIn')}</p>`}
          </fieldset>
          <div class="facet">
            <label for="sort">${t('sort.label')}</label>
            <select id="sort" name="sort">
              <option value=""${attr('selected', !sortParam)}>${t('sort.default')}</option>
              <option value="title"${attr('selected', sortParam === 'title')}>${t('sort.title')}</option>
              <option value="newest"${attr('selected', sortParam === 'newest')}>${t('sort.newest')}</option>
            </select>
          </div>
        </form>
        </details>
        <section class="results" aria-labelledby="results-heading">
          <h2 id="results-heading" class="visually-hidden">${t('search.results')}</h2>
          <p id="result-count" role="status" aria-live="polite"></p>
          <ul class="cards cards-wide" id="results"></ul>
          <p><button type="button" class="button-quiet" id="more" hidden>${t('search.more')}</button></p>
        </section>
      </div>`);

    const input = main.querySelector('#q');
    const facetsForm = main.querySelector('#facets');
    const list = main.querySelector('#results');
    const more = main.querySelector('#more');
    const countEl = main.querySelector('#result-count');
    let results = [];
    let shown = 0;

    function current() {
        const fd = new FormData(facetsForm);
        return {
            q: input.value,
            filters: { medium: fd.get('medium') || '', language: fd.get('language') || '',
                audience: fd.get('audience') || '', mine: fd.get('mine') === 'on' },
            sort: fd.get('sort') || '',
        };
    }

    function showMore(focusFirst) {
        const start = shown;
        const slice = results.slice(shown, shown + PAGE);
        shown += slice.length;
        list.insertAdjacentHTML('beforeend', slice.map(d => card(app, d, { headingLevel: 3, access })).join(''));
        more.hidden = shown >= results.length;
        if (focusFirst && slice.length) {
            list.children[start].querySelector('a').focus();
        }
    }

    function update() {
        const { q, filters: f, sort } = current();
        const r = search(s.index, s.MiniSearch, q, f, { access, sort: sort || undefined });
        results = r.results;
        shown = 0;
        list.textContent = '';
        showMore(false);
        countEl.textContent = results.length === 0 ? t('search.none')
            : t('search.count', { count: results.length });
        for (const el of main.querySelectorAll('.count')) {
            const facet = el.dataset.facet, value = el.dataset.value;
            const n = facet === 'mine' ? r.counts.mine : (r.counts[facet][value] || 0);
            el.textContent = `(${n})`;
        }
        const p = paramsFromFilters(q.trim(), f, sort);
        const hash = `#/search${p.toString() ? `?${p}` : ''}`;
        if (location.hash !== hash) history.replaceState(null, '', hash);
    }

    input.addEventListener('input', update);
    main.querySelector('#search-form').addEventListener('submit', e => {
        e.preventDefault();
        update();
        countEl.focus?.();
    });
    facetsForm.addEventListener('change', update);
    facetsForm.addEventListener('submit', e => e.preventDefault());
    more.addEventListener('click', () => showMore(true));
    update();
}
