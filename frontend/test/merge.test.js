import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    vendorPath, gatewayHref, loanHref, mergeFeeds, buildCatalog, paginate, searchDoc, demand, summary,
} from '../src/merge.js';
import { parsePublication, parseFeed } from '../src/opds.js';

const BORROW = 'http://opds-spec.org/acquisition/borrow';
const ACQ = 'http://opds-spec.org/acquisition';

function ebook(isbn, title, extra = {}) {
    return {
        metadata: { '@type': 'http://schema.org/Book', identifier: `urn:isbn:${isbn}`, title,
            language: 'nb', author: { name: 'Ingrid Solstrand' }, published: '2026-03-02',
            description: 'Tekst.', subject: [{ name: 'Noveller' },
                { name: 'Voksne', code: 'adult', scheme: 'urn:digin:audience' }], ...extra.metadata },
        links: [
            { rel: BORROW, href: `/loans/${isbn}`, type: 'application/epub+zip',
              properties: extra.properties || { availability: { state: 'available',
                  copies: { total: 5, available: 3 }, holds: { total: 0 } } } },
            { rel: ACQ, href: `/books/${isbn}.epub`, type: 'application/epub+zip' },
        ],
        images: [{ href: `/covers/${isbn}.svg`, type: 'image/svg+xml' }],
    };
}

function audiobook(isbn, title, extra = {}) {
    return {
        metadata: { '@type': 'http://schema.org/Audiobook', identifier: `urn:isbn:${isbn}`, title,
            language: 'nb', author: { name: 'Ingrid Solstrand' }, narrator: { name: 'espeak-ng' },
            duration: 95.6, subject: [{ name: 'Lydbok' }], ...extra.metadata },
        links: [
            { rel: BORROW, href: `../loans/${isbn}`, type: 'application/audiobook+json',
              properties: { availability: { state: 'available' }, copies: { total: 4, available: 1 },
                  holds: { total: 2 } } },
            { rel: ACQ, href: `https://lyd.example/manifests/${isbn}.json`, type: 'application/audiobook+json' },
        ],
        images: [{ href: `covers/${isbn}.svg`, type: 'image/svg+xml' }],
    };
}

const feed = (pubs, self = '/opds/catalog.json') => ({
    metadata: { title: 'Vendor' }, links: [{ rel: 'self', href: self }], publications: pubs,
});

test('vendor hrefs become gateway paths', () => {
    assert.equal(vendorPath('/books/X.epub', '/opds/catalog.json'), '/books/X.epub');
    assert.equal(vendorPath('../books/X.epub', '/opds/catalog.json'), '/books/X.epub');
    assert.equal(vendorPath('https://v.example/books/X.epub?a=1', '/opds/catalog.json'), '/books/X.epub?a=1');
    assert.equal(vendorPath('data:image/png;base64,AAAA'), null);
    assert.equal(gatewayHref('bokskya', '/books/X.epub'), '/vendor/bokskya/books/X.epub');
    assert.equal(gatewayHref('lydhuset', '/manifests/X.json'), '/vendor/lydhuset/manifests/X.json');
    assert.equal(loanHref('bokskya', '9788293700104', '/loans/9788293700104'), '/loan/bokskya/9788293700104');
    assert.equal(loanHref('bokskya', null, '/borrow/abc%20d'), '/loan/bokskya/abc%20d');
});

test('the same ISBN from two vendors is one title with two sources', () => {
    const pubs = mergeFeeds([
        { vendor: 'bokskya', feed: feed([ebook('9788293700104', 'Fergen'), ebook('9788293700203', 'Eik')]) },
        { vendor: 'lydhuset', feed: feed([audiobook('9788293700104', 'Fergen (lydbok)'),
            audiobook('9788293700906', 'Kompasset')]) },
    ]);
    assert.equal(pubs.length, 3);
    const fergen = pubs.find(p => p.metadata.identifier === 'urn:isbn:9788293700104');
    // the e-book's metadata is the base; narrator and duration from audio
    assert.equal(fergen.metadata.title, 'Fergen');
    assert.equal(fergen.metadata.narrator.name, 'espeak-ng');
    assert.equal(fergen.metadata.duration, 95.6);
    assert.deepEqual(fergen.metadata.subject.map(s => s.name), ['Noveller', 'Voksne', 'Lydbok']);
    const hrefs = fergen.links.map(l => [l.rel, l.href]);
    assert.deepEqual(hrefs, [
        ['self', '/catalog/publications/9788293700104.json'],
        [BORROW, '/loan/bokskya/9788293700104'],
        [ACQ, '/vendor/bokskya/books/9788293700104.epub'],
        [BORROW, '/loan/lydhuset/9788293700104'],
        [ACQ, '/vendor/lydhuset/manifests/9788293700104.json'],
    ]);
    const p = parsePublication(fergen);
    assert.deepEqual(p.sources.map(s => `${s.vendor}:${s.medium}`), ['bokskya:ebook', 'lydhuset:audio']);
    // holds/copies come out beside availability, whatever the input did
    const audioBorrow = fergen.links[3];
    assert.deepEqual(audioBorrow.properties.copies, { total: 4, available: 1 });
    assert.deepEqual(audioBorrow.properties.availability, { state: 'available' });
    const ebookBorrow = fergen.links[1];
    assert.deepEqual(ebookBorrow.properties.copies, { total: 5, available: 3 });
    assert.equal(ebookBorrow.properties.availability.copies, undefined);
    // an audiobook alone is typed so
    const kompass = pubs.find(x => x.metadata.title === 'Kompasset');
    assert.equal(kompass.metadata['@type'], 'http://schema.org/Audiobook');
});

test('covers: copied ones get catalog paths, others stay behind the gateway', () => {
    const seen = [];
    const pubs = mergeFeeds([
        { vendor: 'bokskya', feed: feed([ebook('9788293700104', 'Fergen')]) },
        { vendor: 'lydhuset', feed: feed([audiobook('9788293700104', 'Fergen')]) },
    ], { coverHref: (vendor, path) => { seen.push([vendor, path]);
        return vendor === 'bokskya' ? `/catalog/covers/${vendor}${path}` : null; } });
    assert.deepEqual(seen, [['bokskya', '/covers/9788293700104.svg'], ['lydhuset', '/opds/covers/9788293700104.svg']]);
    assert.deepEqual(pubs[0].images.map(i => i.href), ['/catalog/covers/bokskya/covers/9788293700104.svg',
        '/vendor/lydhuset/opds/covers/9788293700104.svg']);
});

test('Palace-style belongsTo becomes belongsTo.series', () => {
    const [p] = mergeFeeds([{ vendor: 'v', feed: feed([ebook('9788293700302', 'Snøen',
        { metadata: { belongsTo: { name: 'Ekornet Eik', position: 2 } } })]) }]);
    assert.deepEqual(p.metadata.belongsTo, { series: { name: 'Ekornet Eik', position: 2 } });
});

test('a publication without an acquisition link is left out', () => {
    const pubs = mergeFeeds([{ vendor: 'v', feed: feed([{ metadata: { identifier: 'urn:isbn:9788293700104',
        title: 'x' }, links: [{ rel: 'alternate', href: '/x.html', type: 'text/html' }], images: [] }]) }]);
    assert.equal(pubs.length, 0);
});

test('pages link to each other as OPDS says', () => {
    const pubs = Array.from({ length: 5 }, (_, i) => ({ metadata: { title: `T${i}` }, links: [], images: [] }));
    const pages = paginate(pubs, { base: '/catalog', list: 'all', perPage: 2 });
    assert.deepEqual(pages.map(p => p.path), ['all/1.json', 'all/2.json', 'all/3.json']);
    const mid = parseFeed(pages[1].feed);
    assert.equal(mid.self, '/catalog/all/2.json');
    assert.equal(mid.previous, '/catalog/all/1.json');
    assert.equal(mid.next, '/catalog/all/3.json');
    assert.equal(mid.last, '/catalog/all/3.json');
    assert.equal(mid.numberOfItems, 5);
    assert.equal(mid.currentPage, 2);
    assert.equal(parseFeed(pages[0].feed).previous, null);
    assert.equal(parseFeed(pages[2].feed).next, null);
    assert.equal(pages[2].feed.publications.length, 1);
});

test('the catalog: root groups, lists, one file per title, search documents', () => {
    const pubs = mergeFeeds([
        { vendor: 'bokskya', feed: feed([ebook('9788293700104', 'Fergen'),
            ebook('9788293700203', 'Eik', { metadata: { published: '2026-04-14',
                subject: [{ name: 'Barn', code: 'children', scheme: 'urn:digin:audience' }] } })]) },
        { vendor: 'lydhuset', feed: feed([audiobook('9788293700104', 'Fergen')]) },
    ]);
    const { files, docs } = buildCatalog(pubs, { perPage: 10 });
    const paths = files.map(f => f.path).sort();
    assert.deepEqual(paths, ['all/1.json', 'audio/1.json', 'new/1.json', 'popular/1.json',
        'publications/9788293700104.json', 'publications/9788293700203.json', 'root.json', 'young/1.json']);
    const root = parseFeed(files.find(f => f.path === 'root.json').json);
    assert.deepEqual(root.groups.map(g => g.identifier), ['urn:digin:list:new', 'urn:digin:list:popular',
        'urn:digin:list:young', 'urn:digin:list:audio']);
    assert.deepEqual(root.groups[0].publications.map(p => p.title), ['Eik', 'Fergen']);
    assert.deepEqual(root.groups[2].publications.map(p => p.title), ['Eik']);
    // popular: Fergen has copies out and holds
    assert.deepEqual(root.groups[1].publications.map(p => p.title), ['Fergen', 'Eik']);
    // lists carry summaries: no description, the self link to the full record
    const listed = files.find(f => f.path === 'all/1.json').json.publications[0];
    assert.equal(listed.metadata.description, undefined);
    assert.equal(listed.links[0].href.startsWith('/catalog/publications/'), true);
    const d = docs.find(x => x.id === '9788293700104');
    assert.equal(d.t, 'Fergen');
    assert.equal(d.m, 'audio ebook');
    assert.equal(d.v, 'bokskya:ebook lydhuset:audio');
    assert.equal(d.n, 'espeak-ng');
    assert.equal(d.u, 'adult');
});

test('demand counts copies out and holds', () => {
    const pubs = mergeFeeds([{ vendor: 'l', feed: feed([audiobook('9788293700104', 'F')]) }]);
    assert.equal(demand(pubs[0]), 3 + 2);
    assert.equal(summary(pubs[0]).metadata.narrator.name, 'espeak-ng');
    assert.equal(searchDoc(pubs[0]).m, 'audio');
});
