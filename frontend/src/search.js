// The catalog's search index: how titles are indexed, searched, ranked
// and filtered by facets.
//
// Shared by the browser and tools/digin-catalog, which builds the index
// at build time with exactly these options; the browser loads it with
// the same options.  MiniSearch (npm) is passed in rather than imported,
// so this module runs unchanged in node and in the browser without an
// import map.

import { lang3 } from './opds.js';

export const INDEX_VERSION = 1;

// Folding for matching: case, and letters that patrons type in more than
// one way (æ/ae, ø/o, å/a, and the Sami letters on keyboards without
// them).  Both the index and the query are folded, so "blabaer",
// "blåbær" and "BLÅBÆR" meet.
const FOLD = {
    æ: 'ae', ø: 'o', å: 'a', ä: 'a', ö: 'o', ü: 'u', ß: 'ss',
    á: 'a', č: 'c', đ: 'd', ŋ: 'n', š: 's', ŧ: 't', ž: 'z',
    ï: 'i', â: 'a',
};

export function fold(text) {
    return String(text).toLowerCase().normalize('NFC')
        .replace(/[æøåäöüßáčđŋšŧžïâ]/g, c => FOLD[c])
        .normalize('NFD').replace(/\p{M}/gu, '');
}

export function tokenize(text) {
    return String(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

function processTerm(term) {
    const t = fold(term);
    return t === '' ? null : t;
}

// Search fields: t title, a authors, s series, n narrators, k subjects.
// Stored fields (what a result shows and facets filter on): see
// searchDoc() in merge.js.
export const INDEX_OPTIONS = {
    idField: 'id',
    fields: ['t', 's', 'a', 'n', 'k'],
    storeFields: ['t', 'a', 'l', 'm', 'v', 's', 'u', 'c', 'd'],
    extractField: (doc, field) => {
        const v = doc[field];
        if (v == null) return '';
        if (field === 's') return String(v).split('|')[0];
        if (field === 'k') return String(v).replace(/\|/g, ' ');
        return String(v);
    },
    tokenize,
    processTerm,
};

// Title matches count most, then series, author, narrator and subject.
// Prefix matching gives results while the patron is still typing; a
// little fuzziness forgives typos in longer words.
export const SEARCH_OPTIONS = {
    boost: { t: 4, s: 3, a: 2, n: 1, k: 1 },
    prefix: true,
    fuzzy: term => (term.length >= 5 ? 0.2 : false),
    combineWith: 'AND',
};

export function createIndex(MiniSearch, docs) {
    const index = new MiniSearch(INDEX_OPTIONS);
    index.addAll(docs);
    return index;
}

// The file the catalog ships: search.json.
export function serializeIndex(index, docs) {
    return {
        version: INDEX_VERSION,
        count: docs.length,
        facets: facetValues(docs),
        index: index.toJSON(),
    };
}

export function loadIndex(MiniSearch, data) {
    if (!data || data.version !== INDEX_VERSION) {
        throw new Error('unsupported search index version');
    }
    return MiniSearch.loadJS(data.index, INDEX_OPTIONS);
}

// Every value a facet takes in the whole catalog, with counts.
export function facetValues(docs) {
    const out = { medium: {}, language: {}, audience: {} };
    for (const d of docs) {
        for (const m of String(d.m || '').split(' ').filter(Boolean)) {
            out.medium[m] = (out.medium[m] || 0) + 1;
        }
        const l = lang3(d.l);
        out.language[l] = (out.language[l] || 0) + 1;
        if (d.u) out.audience[d.u] = (out.audience[d.u] || 0) + 1;
    }
    return out;
}

// access: a Set of "vendor:medium" the patron's library grants, from
// /api/me (see availability.js), or null when nobody is signed in.
export function availableToMe(doc, access) {
    if (!access) return false;
    return String(doc.v || '').split(' ').some(s => access.has(s));
}

const FACETS = {
    medium: (doc, value) => String(doc.m || '').split(' ').includes(value),
    language: (doc, value) => lang3(doc.l) === value,
    audience: (doc, value) => doc.u === value,
    mine: (doc, value, access) => !value || availableToMe(doc, access),
};

function matches(doc, filters, access, except) {
    for (const [name, test] of Object.entries(FACETS)) {
        if (name === except) continue;
        const value = filters[name];
        if (value === undefined || value === '' || value === null || value === false) continue;
        if (!test(doc, value, access)) return false;
    }
    return true;
}

const collator = new Intl.Collator('nb', { sensitivity: 'base', numeric: true });

function seriesPosition(doc) {
    const p = String(doc.s || '').split('|')[1];
    return p === undefined ? Infinity : Number(p);
}

function byTitle(a, b) {
    return collator.compare(a.t || '', b.t || '');
}

function byNewest(a, b) {
    const x = a.d || '', y = b.d || '';
    return x < y ? 1 : x > y ? -1 : byTitle(a, b);
}

// Scores from MiniSearch (BM25 with the boosts above), then: a title
// that is the query, or starts with it, comes first; equal scores keep
// series order, then title order.
function rank(results, query) {
    const q = fold(query).trim().replace(/\s+/g, ' ');
    for (const r of results) {
        const t = tokenize(fold(r.t || '')).join(' ');
        if (t === q) r.score *= 3;
        else if (t.startsWith(q)) r.score *= 1.5;
    }
    return results.sort((a, b) => (b.score - a.score)
        || (a.s && b.s && a.s.split('|')[0] === b.s.split('|')[0]
            ? seriesPosition(a) - seriesPosition(b) : 0)
        || byTitle(a, b));
}

// Runs a query with facet filters.  Returns the matching documents (in
// rank order; without a query in the order asked, title by default) and,
// for each facet, how many results each value would give with the other
// filters in place.
export function search(index, MiniSearch, query, filters = {}, { access = null, sort } = {}) {
    const q = String(query || '').trim();
    let base;
    if (q === '') {
        base = index.search(MiniSearch.wildcard);
    } else {
        base = index.search(q, SEARCH_OPTIONS);
        if (base.length === 0 && tokenize(q).length > 1) {
            base = index.search(q, { ...SEARCH_OPTIONS, combineWith: 'OR' });
        }
    }
    const order = sort || (q === '' ? 'title' : 'relevance');
    if (order === 'relevance') rank(base, q);
    else if (order === 'newest') base.sort(byNewest);
    else base.sort(byTitle);

    const results = base.filter(d => matches(d, filters, access));
    const counts = { medium: {}, language: {}, audience: {}, mine: 0 };
    for (const d of base) {
        if (matches(d, filters, access, 'medium')) {
            for (const m of String(d.m || '').split(' ').filter(Boolean)) {
                counts.medium[m] = (counts.medium[m] || 0) + 1;
            }
        }
        if (matches(d, filters, access, 'language')) {
            const l = lang3(d.l);
            counts.language[l] = (counts.language[l] || 0) + 1;
        }
        if (d.u && matches(d, filters, access, 'audience')) {
            counts.audience[d.u] = (counts.audience[d.u] || 0) + 1;
        }
        if (access && matches(d, filters, access, 'mine') && availableToMe(d, access)) {
            counts.mine++;
        }
    }
    return { results, counts, total: results.length, order };
}

// Filters <-> the query part of a #/search route.
export function filtersFromParams(params) {
    return {
        medium: ['ebook', 'audio'].includes(params.get('medium')) ? params.get('medium') : '',
        language: /^[a-z]{2,3}$/.test(params.get('language') || '') ? lang3(params.get('language')) : '',
        audience: ['children', 'youth', 'adult'].includes(params.get('audience'))
            ? params.get('audience') : '',
        mine: params.get('mine') === '1',
    };
}

export function paramsFromFilters(query, filters, sort) {
    const p = new URLSearchParams();
    if (query) p.set('q', query);
    if (filters.medium) p.set('medium', filters.medium);
    if (filters.language) p.set('language', filters.language);
    if (filters.audience) p.set('audience', filters.audience);
    if (filters.mine) p.set('mine', '1');
    if (sort) p.set('sort', sort);
    return p;
}
