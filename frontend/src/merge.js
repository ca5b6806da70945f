// Building the static catalog from vendors' OPDS 2.0 feeds.
//
// Pure functions used by tools/digin-catalog at build time (and by the
// tests): link rewriting to gateway paths, merging the same title from
// several vendors into one publication, paging, the home page groups and
// the search documents.  File access stays in the tool.

import {
    REL_ACQUISITION, REL_BORROW, EXT_VENDOR, EXT_MEDIUM,
    isbnOf, titleKey, mediumOfLink, linkAvailability, seriesOf, audienceOf,
    subjectsOf, contributors, localized, parsePublication,
} from './opds.js';

export const OPDS_TYPE = 'application/opds+json';
export const PUBLICATION_TYPE = 'application/opds-publication+json';

// Resolve an href of a vendor's feed to a path on the vendor's server.
// Relative hrefs resolve against the feed's own location; absolute URLs
// keep their path (the browser reaches the vendor only through the
// gateway).  data: URLs and fragments are left alone (null).
export function vendorPath(href, feedHref = '/') {
    if (typeof href !== 'string' || href === '') return null;
    if (/^data:/i.test(href)) return null;
    const base = new URL(feedHref || '/', 'http://vendor.invalid/');
    const u = new URL(href, base);
    return u.pathname + u.search;
}

// /books/X.epub of vendor V → /vendor/V/books/X.epub
export function gatewayHref(vendor, href, feedHref) {
    const p = vendorPath(href, feedHref);
    if (p === null) return href;
    return `/vendor/${vendor}${p}`;
}

// The gateway's loan location is /loan/<vendor>/<isbn>: it proxies to
// the vendor's own borrow link.  Without an ISBN the last segment of
// the vendor's borrow href names the title.
export function loanHref(vendor, isbn, href, feedHref) {
    if (isbn) return `/loan/${vendor}/${isbn}`;
    const p = vendorPath(href, feedHref) || '';
    const last = p.split('?')[0].split('/').filter(Boolean).pop() || '';
    return `/loan/${vendor}/${encodeURIComponent(decodeURIComponent(last))}`;
}

function rels(link) {
    return Array.isArray(link.rel) ? link.rel : [link.rel];
}

function isBorrow(link) {
    return rels(link).includes(REL_BORROW);
}

function isAcquisition(link) {
    return rels(link).some(r => typeof r === 'string' && r.startsWith(REL_ACQUISITION));
}

// One vendor's publication turned into a source of a title.
//   coverHref(vendor, vendorPath) → the href of the copied cover, or null
export function vendorSources(pub, vendor, { feedHref = '/', coverHref } = {}) {
    const m = pub.metadata || {};
    const isbn = isbnOf(m.identifier);
    const links = Array.isArray(pub.links) ? pub.links : [];
    const byMedium = new Map();
    for (const link of links) {
        if (!link || !isAcquisition(link)) continue;
        const medium = mediumOfLink(link) || mediumOfType(m['@type']);
        if (!medium) continue;
        if (!byMedium.has(medium)) {
            byMedium.set(medium, { vendor, medium, borrow: null, content: null });
        }
        const s = byMedium.get(medium);
        if (isBorrow(link)) {
            if (s.borrow) continue;
            const a = linkAvailability(link);
            const properties = { availability: { state: a.state } };
            if (a.since) properties.availability.since = a.since;
            if (a.until) properties.availability.until = a.until;
            // the schema's place for copies and holds: beside availability
            if (a.copies) properties.copies = a.copies;
            if (a.holds) properties.holds = a.holds;
            properties[EXT_VENDOR] = vendor;
            properties[EXT_MEDIUM] = medium;
            s.borrow = {
                rel: REL_BORROW,
                href: loanHref(vendor, isbn, link.href, feedHref),
                type: link.type,
                properties,
            };
        } else if (!s.content) {
            s.content = {
                rel: REL_ACQUISITION,
                href: gatewayHref(vendor, link.href, feedHref),
                type: link.type,
                properties: { [EXT_VENDOR]: vendor, [EXT_MEDIUM]: medium },
            };
        }
    }
    const images = (Array.isArray(pub.images) ? pub.images : []).map(img => {
        const path = vendorPath(img.href, feedHref);
        const copied = path !== null && coverHref ? coverHref(vendor, path) : null;
        const out = { ...img, href: copied || (path === null ? img.href
            : `/vendor/${vendor}${path}`) };
        return out;
    });
    return { key: titleKey(m), metadata: m, sources: [...byMedium.values()], images };
}

function mediumOfType(schemaType) {
    if (schemaType === 'http://schema.org/Audiobook') return 'audio';
    if (schemaType === 'http://schema.org/EBook' || schemaType === 'http://schema.org/Book') {
        return 'ebook';
    }
    return null;
}

function subjectKey(s) {
    return typeof s === 'string' ? `|${s}` : `${s && s.scheme || ''}|${s && (s.code || localized(s.name))}`;
}

// Merge the sources of one title (entries in feed order) into one OPDS
// 2.0 publication.  The first vendor's metadata is the base; subjects are
// united; narrator and duration come from an audio source.
export function mergeTitle(entries, { base = '/catalog' } = {}) {
    const first = entries[0];
    const audio = entries.find(e => e.sources.some(s => s.medium === 'audio'));
    const ebook = entries.find(e => e.sources.some(s => s.medium === 'ebook'));
    const metadata = { ...(ebook || first).metadata };
    delete metadata.duration;
    delete metadata.narrator;
    if (audio) {
        if (audio.metadata.narrator) metadata.narrator = audio.metadata.narrator;
        if (audio.metadata.duration) metadata.duration = audio.metadata.duration;
    }
    metadata['@type'] = ebook ? 'http://schema.org/Book' : 'http://schema.org/Audiobook';
    const subjects = new Map();
    for (const e of entries) {
        const list = Array.isArray(e.metadata.subject) ? e.metadata.subject
            : e.metadata.subject ? [e.metadata.subject] : [];
        for (const s of list) if (!subjects.has(subjectKey(s))) subjects.set(subjectKey(s), s);
    }
    if (subjects.size) metadata.subject = [...subjects.values()];
    for (const e of entries) {
        if (!metadata.belongsTo && e.metadata.belongsTo) metadata.belongsTo = e.metadata.belongsTo;
        if (!metadata.description && e.metadata.description) {
            metadata.description = e.metadata.description;
        }
    }
    // one spelling of series membership in the output: belongsTo.series
    const series = seriesOf(metadata);
    if (series.length) metadata.belongsTo = { series: series.length === 1 ? series[0] : series };
    const key = first.key;
    const links = [{ rel: 'self', href: `${base}/publications/${key}.json`, type: PUBLICATION_TYPE }];
    const seen = new Set();
    for (const e of entries) {
        for (const s of e.sources) {
            const k = `${s.vendor}:${s.medium}`;
            if (seen.has(k)) continue;
            seen.add(k);
            if (s.borrow) links.push(s.borrow);
            if (s.content) links.push(s.content);
        }
    }
    const images = [];
    const seenImg = new Set();
    for (const e of entries) {
        for (const i of e.images) {
            if (!seenImg.has(i.href)) { seenImg.add(i.href); images.push(i); }
        }
    }
    return { metadata, links, images };
}

// feeds: [{vendor, feed, feedHref?}] → merged publications, in order of
// first appearance.
export function mergeFeeds(feeds, options = {}) {
    const byKey = new Map();
    for (const { vendor, feed, feedHref } of feeds) {
        const self = (feed.links || []).find(l => rels(l).includes('self'));
        const href = feedHref || (self && self.href) || '/';
        for (const pub of feed.publications || []) {
            const entry = vendorSources(pub, vendor, { feedHref: href, coverHref: options.coverHref });
            if (entry.sources.length === 0) continue;
            if (!byKey.has(entry.key)) byKey.set(entry.key, []);
            byKey.get(entry.key).push(entry);
        }
    }
    return [...byKey.values()].map(entries => mergeTitle(entries, options));
}

// How many want a title right now, from what vendors tell: copies out
// plus holds.  OPDS has no popularity field; this is our measure for
// the "popular" group, with the number of sources as a tie-breaker.
export function demand(pub) {
    let d = 0;
    for (const l of pub.links) {
        if (!isBorrow(l)) continue;
        const a = linkAvailability(l);
        if (a.copies && a.copies.total !== undefined && a.copies.available !== undefined) {
            d += Math.max(0, a.copies.total - a.copies.available);
        }
        if (a.holds && a.holds.total) d += a.holds.total;
    }
    return d;
}

const collator = new Intl.Collator('nb', { sensitivity: 'base', numeric: true });

export function sortKey(pub) {
    return localized(pub.metadata.sortAs) || localized(pub.metadata.title);
}

export function byTitle(a, b) {
    return collator.compare(sortKey(a), sortKey(b));
}

export function byNewest(a, b) {
    const x = a.metadata.published || '', y = b.metadata.published || '';
    return x < y ? 1 : x > y ? -1 : byTitle(a, b);
}

export function byPopular(a, b) {
    const d = demand(b) - demand(a);
    if (d) return d;
    const s = b.links.filter(isBorrow).length - a.links.filter(isBorrow).length;
    return s || byNewest(a, b);
}

function hasMedium(pub, medium) {
    return pub.links.some(l => isBorrow(l) && l.properties[EXT_MEDIUM] === medium);
}

// The home page groups: id, bokmål title (the SPA translates by id),
// which titles and in which order.
export const GROUPS = [
    { id: 'new', title: 'Nytt', filter: () => true, sort: byNewest },
    { id: 'popular', title: 'Populært', filter: () => true, sort: byPopular },
    { id: 'young', title: 'For barn og unge',
      filter: p => ['children', 'youth'].includes(audienceOf(p.metadata)), sort: byNewest },
    { id: 'audio', title: 'Lydbøker', filter: p => hasMedium(p, 'audio'), sort: byNewest },
];

function pageHref(base, list, n) {
    return `${base}/${list}/${n}.json`;
}

// What a list shows of a title: enough for a card (title, author,
// language, cover, sources and their availability); the full record is
// behind the `self` link (application/opds-publication+json).
const SUMMARY_KEYS = ['@type', 'identifier', 'title', 'sortAs', 'subtitle', 'language',
    'author', 'narrator', 'published', 'belongsTo', 'duration'];

export function summary(pub) {
    const metadata = {};
    for (const k of SUMMARY_KEYS) if (pub.metadata[k] !== undefined) metadata[k] = pub.metadata[k];
    const audience = audienceOf(pub.metadata);
    if (audience) {
        metadata.subject = (pub.metadata.subject || []).filter(s => s && s.code === audience);
    }
    return { metadata, links: pub.links, images: pub.images.slice(0, 1) };
}

// Paginated OPDS 2.0 feeds of a list: [{path, feed}].
export function paginate(pubs, { base = '/catalog', list = 'all', title = 'Alle titler',
    perPage = 50, identifier } = {}) {
    const pages = Math.max(1, Math.ceil(pubs.length / perPage));
    const out = [];
    for (let n = 1; n <= pages; n++) {
        const links = [
            { rel: 'self', href: pageHref(base, list, n), type: OPDS_TYPE },
            { rel: 'first', href: pageHref(base, list, 1), type: OPDS_TYPE },
            { rel: 'last', href: pageHref(base, list, pages), type: OPDS_TYPE },
            { rel: 'start', href: `${base}/root.json`, type: OPDS_TYPE },
            { rel: 'search', href: `${base}/search.json`, type: 'application/json' },
        ];
        if (n > 1) links.push({ rel: 'previous', href: pageHref(base, list, n - 1), type: OPDS_TYPE });
        if (n < pages) links.push({ rel: 'next', href: pageHref(base, list, n + 1), type: OPDS_TYPE });
        const metadata = { title, numberOfItems: pubs.length, itemsPerPage: perPage, currentPage: n };
        if (identifier) metadata.identifier = identifier;
        out.push({
            path: `${list}/${n}.json`,
            feed: { metadata, links,
                publications: pubs.slice((n - 1) * perPage, n * perPage).map(summary) },
        });
    }
    return out;
}

// Everything the catalog directory holds, as [{path, json}] plus the
// search documents; the tool writes them.
// The groups hold at most groupMax titles each (the newest, the most
// wanted...); "all" holds every title.
export function buildCatalog(pubs, { base = '/catalog', perPage = 50, groupSize = 12,
    groupMax = 500, title = 'Digin', modified } = {}) {
    const files = [];
    const all = [...pubs].sort(byTitle);
    for (const p of paginate(all, { base, list: 'all', title: 'Alle titler', perPage,
        identifier: 'urn:digin:list:all' })) {
        files.push({ path: p.path, json: p.feed });
    }
    const groups = [];
    const navigation = [{ href: `${base}/all/1.json`, title: 'Alle titler', type: OPDS_TYPE,
        rel: 'subsection', properties: { numberOfItems: all.length } }];
    for (const g of GROUPS) {
        const list = all.filter(g.filter).sort(g.sort).slice(0, groupMax);
        if (list.length === 0) continue;
        const identifier = `urn:digin:list:${g.id}`;
        for (const p of paginate(list, { base, list: g.id, title: g.title, perPage, identifier })) {
            files.push({ path: p.path, json: p.feed });
        }
        navigation.push({ href: `${base}/${g.id}/1.json`, title: g.title, type: OPDS_TYPE,
            rel: 'subsection', properties: { numberOfItems: list.length } });
        groups.push({
            metadata: { title: g.title, identifier, numberOfItems: list.length },
            links: [{ rel: 'self', href: `${base}/${g.id}/1.json`, type: OPDS_TYPE }],
            publications: list.slice(0, groupSize).map(summary),
        });
    }
    const metadata = { title, numberOfItems: all.length };
    if (modified) metadata.modified = modified;
    files.push({
        path: 'root.json',
        json: {
            metadata,
            links: [
                { rel: 'self', href: `${base}/root.json`, type: OPDS_TYPE },
                { rel: 'start', href: `${base}/root.json`, type: OPDS_TYPE },
                { rel: 'search', href: `${base}/search.json`, type: 'application/json' },
            ],
            navigation,
            groups,
        },
    });
    for (const p of pubs) {
        const id = titleKey(p.metadata);
        files.push({ path: `publications/${id}.json`, json: p });
    }
    return { files, docs: pubs.map(searchDoc) };
}

// The compact record of a title that the search index stores: enough to
// show a result and to filter by facets without loading the title.
export function searchDoc(pub) {
    const m = pub.metadata;
    const parsed = parsePublication(pub);
    const series = seriesOf(m)[0];
    const doc = {
        id: parsed.id,
        t: parsed.title,
        a: contributors(m.author).map(c => c.name).join(', '),
        l: parsed.language,
        m: [...new Set(parsed.sources.map(s => s.medium))].sort().join(' '),
        v: parsed.sources.map(s => `${s.vendor}:${s.medium}`).join(' '),
    };
    if (series) doc.s = series.position !== undefined ? `${series.name}|${series.position}` : series.name;
    const narrators = contributors(m.narrator).map(c => c.name).join(', ');
    if (narrators) doc.n = narrators;
    const subjects = subjectsOf(m);
    if (subjects.length) doc.k = subjects.join('|');
    const audience = audienceOf(m);
    if (audience) doc.u = audience;
    if (parsed.cover) doc.c = parsed.cover;
    if (m.published) doc.d = String(m.published).slice(0, 10);
    return doc;
}
