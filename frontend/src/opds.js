// OPDS 2.0 reading: feeds, publications, acquisition links.
//
// Pure functions (no DOM), shared by the browser and tools/digin-catalog.
// The parser is lenient where OPDS producers differ:
//   - holds/copies inside `availability` (the borrowing best-practice
//     text) or beside it (the JSON schema);
//   - belongsTo.series {name, position}, a list of them, a bare string,
//     or Palace's belongsTo {name, position} without `series`;
//   - contributors as a string, an object or a list, names as a string
//     or a language map.

export const REL_ACQUISITION = 'http://opds-spec.org/acquisition';
export const REL_BORROW = 'http://opds-spec.org/acquisition/borrow';
export const REL_OPEN_ACCESS = 'http://opds-spec.org/acquisition/open-access';
export const AUDIENCE_SCHEME = 'urn:digin:audience';

// Our extension members on a link's `properties` in the merged catalog:
// which vendor the link belongs to and which medium it gives.
export const EXT_VENDOR = 'digin:vendor';
export const EXT_MEDIUM = 'digin:medium';

const EBOOK_TYPES = new Set([
    'application/epub+zip',
    'application/webpub+json',
    'application/pdf',
]);
const AUDIO_TYPES = new Set([
    'application/audiobook+json',
    'application/audiobook+zip',
    'application/audiobook+lcp',
]);

// BCP 47 (what `lang` attributes take) and ISO 639-2/3 (what the
// catalog's language facet uses: nob, nno, sme, ...).
const LANG3 = {
    nb: 'nob', nn: 'nno', no: 'nor', se: 'sme', sma: 'sma', smj: 'smj',
    en: 'eng', sv: 'swe', da: 'dan', fi: 'fin', de: 'deu', fr: 'fra',
    es: 'spa', fkv: 'fkv', ar: 'ara', so: 'som', pl: 'pol', uk: 'ukr',
};
const LANG2 = Object.fromEntries(Object.entries(LANG3).map(([a, b]) => [b, a]));
LANG2.nor = 'no';

export function lang3(tag) {
    if (typeof tag !== 'string' || tag === '') return 'und';
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (primary.length === 3) return primary;
    return LANG3[primary] || primary;
}

export function bcp47(code) {
    if (typeof code !== 'string' || code === '') return '';
    const primary = code.toLowerCase().split(/[-_]/)[0];
    if (primary.length === 3 && LANG2[primary]) return LANG2[primary];
    return code;
}

// A string or a language map ({"nb": "...", "en": "..."}).
export function localized(value, lang) {
    if (value == null) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'object') {
        if (lang && typeof value[lang] === 'string') return value[lang];
        const first = Object.values(value).find(v => typeof v === 'string');
        return first || '';
    }
    return String(value);
}

export function contributors(value) {
    if (value == null) return [];
    const list = Array.isArray(value) ? value : [value];
    return list
        .map(c => typeof c === 'string' ? { name: c }
            : { name: localized(c && c.name), sortAs: c && c.sortAs })
        .filter(c => c.name);
}

export function isbnOf(identifier) {
    if (typeof identifier !== 'string') return null;
    const m = identifier.trim().match(/^(?:urn:isbn:)?([0-9][0-9-]{8,16}[0-9Xx])$/i);
    if (!m) return null;
    const digits = m[1].replace(/-/g, '').toUpperCase();
    return digits.length === 13 || digits.length === 10 ? digits : null;
}

// A stable id for a title: the ISBN when there is one, else a short
// hash of the identifier (or of the title and first author).
export function titleKey(metadata) {
    const isbn = isbnOf(metadata && metadata.identifier);
    if (isbn) return isbn;
    const basis = (metadata && metadata.identifier)
        || `${localized(metadata && metadata.title)}|${
            (contributors(metadata && metadata.author)[0] || {}).name || ''}`;
    return 'h' + fnv1a(basis.toLowerCase());
}

function fnv1a(s) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(36);
}

export function seriesOf(metadata) {
    const b = metadata && metadata.belongsTo;
    if (!b) return [];
    let list;
    if (b.series !== undefined) list = b.series;
    else if (b.name !== undefined) list = b;          // Palace
    else return [];
    list = Array.isArray(list) ? list : [list];
    return list
        .map(s => typeof s === 'string' ? { name: s }
            : { name: localized(s && s.name), position: s && s.position })
        .filter(s => s.name)
        .map(s => (typeof s.position === 'number' ? s
            : { name: s.name }));
}

export function audienceOf(metadata) {
    const subjects = Array.isArray(metadata && metadata.subject) ? metadata.subject
        : metadata && metadata.subject ? [metadata.subject] : [];
    for (const s of subjects) {
        if (s && typeof s === 'object' && s.scheme === AUDIENCE_SCHEME && s.code) {
            return s.code;
        }
    }
    return null;
}

// Subjects for display and search: the audience scheme is left out (it
// is a facet of its own).
export function subjectsOf(metadata) {
    const subjects = Array.isArray(metadata && metadata.subject) ? metadata.subject
        : metadata && metadata.subject ? [metadata.subject] : [];
    return subjects
        .filter(s => !(s && typeof s === 'object' && s.scheme === AUDIENCE_SCHEME))
        .map(s => typeof s === 'string' ? s : localized(s && s.name))
        .filter(Boolean);
}

export function mediumOfType(type) {
    if (typeof type !== 'string') return null;
    const t = type.split(';')[0].trim().toLowerCase();
    if (EBOOK_TYPES.has(t)) return 'ebook';
    if (AUDIO_TYPES.has(t) || t.startsWith('audio/')) return 'audio';
    return null;
}

// The medium a link gives: our extension, its type, or the type at the
// end of an indirect acquisition chain.
export function mediumOfLink(link) {
    if (!link) return null;
    const p = link.properties || {};
    if (p[EXT_MEDIUM] === 'ebook' || p[EXT_MEDIUM] === 'audio') return p[EXT_MEDIUM];
    const direct = mediumOfType(link.type);
    if (direct) return direct;
    let chain = p.indirectAcquisition;
    while (Array.isArray(chain) && chain.length > 0) {
        const m = mediumOfType(chain[0].type);
        if (m) return m;
        chain = chain[0].child;
    }
    return null;
}

function count(v) {
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function counts(o, a, b) {
    if (!o || typeof o !== 'object') return undefined;
    const x = count(o[a]), y = count(o[b]);
    if (x === undefined && y === undefined) return undefined;
    const r = {};
    if (x !== undefined) r[a] = x;
    if (y !== undefined) r[b] = y;
    return r;
}

// availability, copies and holds of an acquisition link, wherever the
// producer put them.
export function linkAvailability(link) {
    const p = (link && link.properties) || {};
    const a = p.availability && typeof p.availability === 'object' ? p.availability : {};
    const r = { state: typeof a.state === 'string' ? a.state : 'available' };
    if (a.since) r.since = a.since;
    if (a.until) r.until = a.until;
    const copies = counts(p.copies, 'total', 'available') || counts(a.copies, 'total', 'available');
    const holds = counts(p.holds, 'total', 'position') || counts(a.holds, 'total', 'position');
    if (copies) r.copies = copies;
    if (holds) r.holds = holds;
    return r;
}

function isAcquisition(rel) {
    const rels = Array.isArray(rel) ? rel : [rel];
    return rels.some(r => typeof r === 'string' && r.startsWith(REL_ACQUISITION));
}

function hasRel(link, rel) {
    const rels = Array.isArray(link.rel) ? link.rel : [link.rel];
    return rels.includes(rel);
}

function durationOf(metadata) {
    const d = metadata && metadata.duration;
    return typeof d === 'number' && d > 0 ? d : null;
}

function pickImage(images) {
    if (!Array.isArray(images) || images.length === 0) return null;
    const byRel = images.find(i => hasRel(i, 'cover'));
    return (byRel || images[0]).href || null;
}

// A publication of the merged catalog, as the SPA uses it.  Sources
// pair each vendor's borrow link with its content link.
export function parsePublication(pub) {
    const m = (pub && pub.metadata) || {};
    const links = Array.isArray(pub && pub.links) ? pub.links : [];
    const language = Array.isArray(m.language) ? m.language[0] : m.language;
    const sources = new Map();
    for (const link of links) {
        if (!link || !isAcquisition(link.rel)) continue;
        const p = link.properties || {};
        const vendor = p[EXT_VENDOR] || vendorOfHref(link.href) || '';
        const medium = mediumOfLink(link);
        const key = `${vendor}:${medium}`;
        if (!sources.has(key)) {
            sources.set(key, { vendor, medium, borrow: null, content: null,
                type: null, availability: { state: 'available' } });
        }
        const s = sources.get(key);
        if (hasRel(link, REL_BORROW)) {
            s.borrow = link.href;
            s.availability = linkAvailability(link);
            s.type = s.type || link.type || null;
        } else {
            s.content = link.href;
            s.type = link.type || s.type;
        }
    }
    const self = links.find(l => hasRel(l, 'self'));
    const series = seriesOf(m);
    return {
        id: titleKey(m),
        isbn: isbnOf(m.identifier),
        identifier: m.identifier || null,
        title: localized(m.title),
        subtitle: localized(m.subtitle),
        language: typeof language === 'string' ? language : '',
        authors: contributors(m.author),
        narrators: contributors(m.narrator),
        translators: contributors(m.translator),
        illustrators: contributors(m.illustrator),
        publisher: contributors(m.publisher).map(c => c.name).join(', '),
        published: typeof m.published === 'string' ? m.published : '',
        description: localized(m.description),
        subjects: subjectsOf(m),
        audience: audienceOf(m),
        series: series[0] || null,
        duration: durationOf(m),
        cover: pickImage(pub && pub.images),
        self: self ? self.href : null,
        sources: [...sources.values()].filter(s => s.medium),
    };
}

// /vendor/<v>/... and /loan/<v>/... hrefs name their vendor.
export function vendorOfHref(href) {
    if (typeof href !== 'string') return null;
    const m = href.match(/^\/(?:vendor|loan)\/([A-Za-z0-9_.-]+)\//);
    return m ? m[1] : null;
}

export function media(pub) {
    return [...new Set(pub.sources.map(s => s.medium))];
}

function linkByRel(links, rel) {
    const l = (links || []).find(x => x && hasRel(x, rel));
    return l ? l.href : null;
}

export function parseFeed(feed) {
    const m = (feed && feed.metadata) || {};
    const links = (feed && feed.links) || [];
    return {
        title: localized(m.title),
        identifier: m.identifier || null,
        numberOfItems: count(m.numberOfItems) ?? null,
        itemsPerPage: count(m.itemsPerPage) ?? null,
        currentPage: count(m.currentPage) ?? null,
        self: linkByRel(links, 'self'),
        first: linkByRel(links, 'first'),
        previous: linkByRel(links, 'previous') || linkByRel(links, 'prev'),
        next: linkByRel(links, 'next'),
        last: linkByRel(links, 'last'),
        navigation: (feed && feed.navigation) || [],
        publications: ((feed && feed.publications) || []).map(parsePublication),
        groups: ((feed && feed.groups) || []).map(g => ({
            title: localized(g.metadata && g.metadata.title),
            identifier: (g.metadata && g.metadata.identifier) || null,
            numberOfItems: count(g.metadata && g.metadata.numberOfItems) ?? null,
            href: linkByRel(g.links, 'self'),
            publications: (g.publications || []).map(parsePublication),
            navigation: g.navigation || [],
        })),
    };
}
