import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    parsePublication, parseFeed, linkAvailability, seriesOf, mediumOfLink, isbnOf,
    titleKey, lang3, bcp47, contributors, localized, audienceOf, subjectsOf,
} from '../src/opds.js';

const BORROW = 'http://opds-spec.org/acquisition/borrow';

test('holds and copies are read inside or beside availability', () => {
    const inside = { rel: BORROW, href: '/loan/a/1', type: 'application/epub+zip',
        properties: { availability: { state: 'available', copies: { total: 5, available: 3 },
            holds: { total: 2, position: 1 } } } };
    const beside = { rel: BORROW, href: '/loan/a/1', type: 'application/epub+zip',
        properties: { availability: { state: 'unavailable', until: '2026-12-01T00:00:00Z' },
            copies: { total: 3, available: 0 }, holds: { total: 4 } } };
    assert.deepEqual(linkAvailability(inside), { state: 'available',
        copies: { total: 5, available: 3 }, holds: { total: 2, position: 1 } });
    assert.deepEqual(linkAvailability(beside), { state: 'unavailable', until: '2026-12-01T00:00:00Z',
        copies: { total: 3, available: 0 }, holds: { total: 4 } });
    // no availability at all: available, nothing else claimed
    assert.deepEqual(linkAvailability({ rel: BORROW }), { state: 'available' });
    // nonsense counts are dropped
    assert.deepEqual(linkAvailability({ properties: { copies: { total: -1, available: 'x' } } }),
        { state: 'available' });
});

test('series from belongsTo.series, a list, a string, or Palace style', () => {
    assert.deepEqual(seriesOf({ belongsTo: { series: { name: 'Ekornet Eik', position: 2 } } }),
        [{ name: 'Ekornet Eik', position: 2 }]);
    assert.deepEqual(seriesOf({ belongsTo: { series: [{ name: 'A', position: 1 }, 'B'] } }),
        [{ name: 'A', position: 1 }, { name: 'B' }]);
    assert.deepEqual(seriesOf({ belongsTo: { name: 'Palace', position: 3 } }),
        [{ name: 'Palace', position: 3 }]);
    assert.deepEqual(seriesOf({ belongsTo: { collection: 'Not a series' } }), []);
    assert.deepEqual(seriesOf({}), []);
});

test('medium from the type, the indirect acquisition, or our extension', () => {
    assert.equal(mediumOfLink({ type: 'application/epub+zip' }), 'ebook');
    assert.equal(mediumOfLink({ type: 'application/audiobook+json' }), 'audio');
    assert.equal(mediumOfLink({ type: 'audio/mpeg' }), 'audio');
    assert.equal(mediumOfLink({ type: 'application/vnd.readium.lcp.license.v1.0+json',
        properties: { indirectAcquisition: [{ type: 'application/epub+zip' }] } }), 'ebook');
    assert.equal(mediumOfLink({ type: 'text/html' }), null);
    assert.equal(mediumOfLink({ type: 'text/html', properties: { 'digin:medium': 'audio' } }), 'audio');
});

test('ISBNs and title keys', () => {
    assert.equal(isbnOf('urn:isbn:978-82-937-0010-4'), '9788293700104');
    assert.equal(isbnOf('9788293700104'), '9788293700104');
    assert.equal(isbnOf('urn:uuid:1234'), null);
    assert.equal(titleKey({ identifier: 'urn:isbn:9788293700104' }), '9788293700104');
    const k = titleKey({ identifier: 'urn:uuid:abc' });
    assert.match(k, /^h[0-9a-z]+$/);
    assert.equal(k, titleKey({ identifier: 'urn:uuid:abc' }));
    assert.notEqual(k, titleKey({ identifier: 'urn:uuid:abd' }));
});

test('languages: BCP 47 and ISO 639-3', () => {
    assert.equal(lang3('nb'), 'nob');
    assert.equal(lang3('nn-NO'), 'nno');
    assert.equal(lang3('se'), 'sme');
    assert.equal(lang3('sme'), 'sme');
    assert.equal(lang3(''), 'und');
    assert.equal(bcp47('nob'), 'nb');
    assert.equal(bcp47('sme'), 'se');
    assert.equal(bcp47('nb'), 'nb');
});

test('contributors and localized strings', () => {
    assert.deepEqual(contributors('A'), [{ name: 'A' }]);
    assert.deepEqual(contributors([{ name: { nb: 'Ola', en: 'Ola N' } }, { name: '' }]).map(c => c.name), ['Ola']);
    assert.equal(localized({ en: 'Cat', nb: 'Katt' }, 'nb'), 'Katt');
    assert.equal(localized(undefined), '');
});

test('audience and subjects', () => {
    const m = { subject: [{ name: 'Dyr' }, 'Fabler', { name: 'Barn', code: 'children', scheme: 'urn:digin:audience' }] };
    assert.equal(audienceOf(m), 'children');
    assert.deepEqual(subjectsOf(m), ['Dyr', 'Fabler']);
});

test('a merged publication parses into sources by vendor and medium', () => {
    const pub = {
        metadata: { identifier: 'urn:isbn:9788293700104', title: 'Fergen', language: 'nb',
            author: { name: 'Ingrid Solstrand' }, narrator: { name: 'espeak-ng' }, duration: 95.6,
            belongsTo: { series: { name: 'S', position: 1 } } },
        links: [
            { rel: 'self', href: '/catalog/publications/9788293700104.json' },
            { rel: BORROW, href: '/loan/bokskya/9788293700104', type: 'application/epub+zip',
              properties: { availability: { state: 'available' }, 'digin:vendor': 'bokskya' } },
            { rel: 'http://opds-spec.org/acquisition', href: '/vendor/bokskya/books/9788293700104.epub',
              type: 'application/epub+zip', properties: { 'digin:vendor': 'bokskya' } },
            { rel: BORROW, href: '/loan/lydhuset/9788293700104', type: 'application/audiobook+json' },
            { rel: 'http://opds-spec.org/acquisition', href: '/vendor/lydhuset/manifests/9788293700104.json',
              type: 'application/audiobook+json' },
        ],
        images: [{ href: '/catalog/covers/bokskya/covers/9788293700104.svg' }],
    };
    const p = parsePublication(pub);
    assert.equal(p.id, '9788293700104');
    assert.equal(p.series.name, 'S');
    assert.equal(p.duration, 95.6);
    assert.deepEqual(p.narrators.map(n => n.name), ['espeak-ng']);
    assert.deepEqual(p.sources.map(s => [s.vendor, s.medium, s.borrow, s.content]), [
        ['bokskya', 'ebook', '/loan/bokskya/9788293700104', '/vendor/bokskya/books/9788293700104.epub'],
        ['lydhuset', 'audio', '/loan/lydhuset/9788293700104', '/vendor/lydhuset/manifests/9788293700104.json'],
    ]);
});

test('feeds: paging links and groups', () => {
    const f = parseFeed({
        metadata: { title: 'All', numberOfItems: 120, itemsPerPage: 50, currentPage: 2 },
        links: [{ rel: 'self', href: '/c/all/2.json' }, { rel: 'previous', href: '/c/all/1.json' },
            { rel: 'next', href: '/c/all/3.json' }, { rel: ['last'], href: '/c/all/3.json' }],
        publications: [],
        groups: [{ metadata: { title: 'New', identifier: 'urn:digin:list:new' },
            links: [{ rel: 'self', href: '/c/new/1.json' }], publications: [] }],
    });
    assert.equal(f.currentPage, 2);
    assert.equal(f.previous, '/c/all/1.json');
    assert.equal(f.next, '/c/all/3.json');
    assert.equal(f.last, '/c/all/3.json');
    assert.equal(f.groups[0].identifier, 'urn:digin:list:new');
    assert.equal(f.groups[0].href, '/c/new/1.json');
});
