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
const FACET_NAMES = Object.keys(FACETS);

const collator = new Intl.Collator('nb', { sensitivity: 'base', numeric: true });

// Per index, computed once (again when documents are added): each
// title's place in title order and its folded words.  The collator is
// slow enough that sorting thousands of results with it, or folding
// every title again, shows at each keystroke.
const derived = new WeakMap();

function derivedOf(index, MiniSearch) {
    let d = derived.get(index);
    if (!d || d.count !== index.documentCount) {
        const all = index.search(MiniSearch.wildcard)
            .sort((a, b) => collator.compare(a.t || '', b.t || ''));
        const order = new Map();
        for (let i = 0, rank = 0; i < all.length; i++) {
            if (i > 0 && collator.compare(all[i - 1].t || '', all[i].t || '') !== 0) rank = i;
            order.set(all[i].id, rank);
        }
        d = { count: index.documentCount, all, order, folded: new Map() };
        derived.set(index, d);
    }
    return d;
}

function seriesPosition(doc) {
    const p = String(doc.s || '').split('|')[1];
    return p === undefined ? Infinity : Number(p);
}

function titleOrder(d) {
    return (a, b) => {
        const x = d.order.get(a.id), y = d.order.get(b.id);
        return x !== undefined && y !== undefined ? x - y : collator.compare(a.t || '', b.t || '');
    };
}

function newestOrder(byTitle) {
    return (a, b) => {
        const x = a.d || '', y = b.d || '';
        return x < y ? 1 : x > y ? -1 : byTitle(a, b);
    };
}

function foldedTitle(d, doc) {
    let f = d.folded.get(doc.id);
    if (f === undefined) {
        f = tokenize(fold(doc.t || '')).join(' ');
        d.folded.set(doc.id, f);
    }
    return f;
}

// Scores from MiniSearch (BM25 with the boosts above), then: a title
// that is the query, or starts with it, comes first; equal scores keep
// series order, then title order.
function rank(results, query, d, byTitle) {
    const q = fold(query).trim().replace(/\s+/g, ' ');
    for (const r of results) {
        const t = foldedTitle(d, r);
        if (t === q) r.score *= 3;
        else if (t.startsWith(q)) r.score *= 1.5;
    }
    return results.sort((a, b) => (b.score - a.score)
        || (a.s && b.s && a.s.split('|')[0] === b.s.split('|')[0]
            ? seriesPosition(a) - seriesPosition(b) : 0)
        || byTitle(a, b));
}

const isSet = value => !(value === undefined || value === '' || value === null || value === false);

// Runs a query with facet filters.  Returns the matching documents (in
// rank order; without a query in the order asked, title by default) and,
// for each facet, how many results each value would give with the other
// filters in place.
export function search(index, MiniSearch, query, filters = {}, { access = null, sort } = {}) {
    const q = String(query || '').trim();
    const d = derivedOf(index, MiniSearch);
    const byTitle = titleOrder(d);
    const order = sort || (q === '' ? 'title' : 'relevance');
    let base;
    if (q === '') {
        // every title, already in title order (copies when ranking
        // would change their scores)
        base = order === 'relevance' ? d.all.map(r => ({ ...r })) : d.all.slice();
    } else {
        base = index.search(q, SEARCH_OPTIONS);
        if (base.length === 0 && tokenize(q).length > 1) {
            base = index.search(q, { ...SEARCH_OPTIONS, combineWith: 'OR' });
        }
    }
    if (order === 'relevance') rank(base, q, d, byTitle);
    else if (order === 'newest') base.sort(newestOrder(byTitle));
    else if (q !== '') base.sort(byTitle);

    // each filter is tried once per document: a document that passes
    // all is a result; one that fails a single filter still counts for
    // that facet (what choosing another value there would give)
    const active = FACET_NAMES.filter(name => isSet(filters[name]));
    const results = [];
    const counts = { medium: {}, language: {}, audience: {}, mine: 0 };
    for (const doc of base) {
        let fails = 0;
        let failed = null;
        for (const name of active) {
            if (!FACETS[name](doc, filters[name], access)) {
                failed = name;
                if (++fails > 1) break;
            }
        }
        if (fails > 1) continue;
        if (fails === 0) results.push(doc);
        if (fails === 0 || failed === 'medium') {
            for (const m of String(doc.m || '').split(' ')) {
                if (m) counts.medium[m] = (counts.medium[m] || 0) + 1;
            }
        }
        if (fails === 0 || failed === 'language') {
            const l = lang3(doc.l);
            counts.language[l] = (counts.language[l] || 0) + 1;
        }
        if (doc.u && (fails === 0 || failed === 'audience')) {
            counts.audience[doc.u] = (counts.audience[doc.u] || 0) + 1;
        }
        if (access && (fails === 0 || failed === 'mine') && availableToMe(doc, access)) {
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
