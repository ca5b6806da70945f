import { test } from 'node:test';
import assert from 'node:assert/strict';
import MiniSearch from 'minisearch';
import {
    fold, tokenize, createIndex, serializeIndex, loadIndex, search, availableToMe,
    filtersFromParams, paramsFromFilters,
} from '../src/search.js';

const DOCS = [
    { id: '1', t: 'Fergen', a: 'Ingrid Solstrand', l: 'nb', m: 'audio ebook', v: 'bokskya:ebook lydhuset:audio', u: 'adult', d: '2026-03-02', k: 'Noveller' },
    { id: '2', t: 'Ekornet Eik teller nøtter', a: 'Hanne Mo', l: 'nb', m: 'ebook', v: 'bokskya:ebook', s: 'Ekornet Eik|1', u: 'children', d: '2026-04-14', k: 'Bildebøker|Dyr' },
    { id: '3', t: 'Ekornet Eik og den store snøen', a: 'Hanne Mo', l: 'nb', m: 'ebook', v: 'bokskya:ebook', s: 'Ekornet Eik|2', u: 'children', d: '2026-05-01', k: 'Bildebøker|Dyr|Vennskap' },
    { id: '4', t: 'Dikt frå fjorden', a: 'Åse Fjellstad', l: 'nn', m: 'ebook', v: 'bokskya:ebook', u: 'adult', d: '2025-01-01', k: 'Dikt' },
    { id: '5', t: 'Ánde ja guovssahasat', a: 'Máret Somby', l: 'se', m: 'audio ebook', v: 'bokskya:ebook lydhuset:audio', u: 'children', d: '2026-02-01', k: 'Mánáidgirjjit' },
    { id: '6', t: 'Kompasset til bestefar', a: 'Per Fergestad', l: 'nb', m: 'audio', v: 'lydhuset:audio', u: 'adult', d: '2026-06-01', n: 'espeak-ng', k: 'Natur' },
    { id: '7', t: 'The Night Train', a: 'Anna Berg', l: 'en', m: 'audio', v: 'lydhuset:audio', u: 'adult', d: '2026-01-01' },
    { id: '8', t: 'Brua over elva', a: 'Kari Fergen', l: 'nn', m: 'audio', v: 'lydhuset:audio', u: 'children', d: '2024-01-01' },
];

const index = createIndex(MiniSearch, DOCS);
const ids = r => r.results.map(x => x.id);

test('folding: case, æøå and Sami letters', () => {
    assert.equal(fold('BLÅBÆR'), 'blabaer');
    assert.equal(fold('Ánde ja guovssahasat'), 'ande ja guovssahasat');
    assert.equal(fold('čđŋšŧž'), 'cdnstz');
    assert.deepEqual(tokenize('Dikt frå fjorden, bind 2'), ['Dikt', 'frå', 'fjorden', 'bind', '2']);
});

test('a title match ranks above an author match', () => {
    // "fergen" is a title (1) and an author's name (8)
    const r = search(index, MiniSearch, 'fergen');
    assert.deepEqual(ids(r), ['1', '8']);
});

test('results while typing: prefixes match', () => {
    assert.deepEqual(ids(search(index, MiniSearch, 'komp')), ['6']);
    assert.deepEqual(ids(search(index, MiniSearch, 'eko')), ['2', '3']);
});

test('a series comes in series order', () => {
    assert.deepEqual(ids(search(index, MiniSearch, 'ekornet eik')), ['2', '3']);
});

test('letters typed without accents still find', () => {
    assert.deepEqual(ids(search(index, MiniSearch, 'ande guovssahasat')), ['5']);
    assert.deepEqual(ids(search(index, MiniSearch, 'fra fjorden')), ['4']);
    assert.deepEqual(ids(search(index, MiniSearch, 'Åse')), ['4']);
});

test('a typo in a longer word is forgiven', () => {
    assert.equal(ids(search(index, MiniSearch, 'kompaset'))[0], '6');
});

test('all words must match; if none does, any word', () => {
    assert.deepEqual(ids(search(index, MiniSearch, 'eik snøen')), ['3']);
    const r = search(index, MiniSearch, 'snøen xyzzy');
    assert.deepEqual(ids(r), ['3']);
});

test('narrator and subject are searched', () => {
    assert.deepEqual(ids(search(index, MiniSearch, 'espeak')), ['6']);
    assert.deepEqual(ids(search(index, MiniSearch, 'vennskap')), ['3']);
});

test('facets filter, and count with the other facets applied', () => {
    const r = search(index, MiniSearch, '', { medium: 'audio', language: 'nno' });
    assert.deepEqual(ids(r), ['8']);
    // medium counts are taken with language nno in place
    assert.deepEqual(r.counts.medium, { audio: 1, ebook: 1 });
    // language counts with medium audio in place
    assert.deepEqual(r.counts.language, { nob: 2, sme: 1, eng: 1, nno: 1 });
    const sami = search(index, MiniSearch, '', { language: 'sme' });
    assert.deepEqual(ids(sami), ['5']);
    const kids = search(index, MiniSearch, '', { audience: 'children' });
    assert.deepEqual(ids(kids).sort(), ['2', '3', '5', '8']);
});

test('"available to me" follows the library\'s vendors and media', () => {
    const access = new Set(['lydhuset:audio']);
    assert.equal(availableToMe(DOCS[0], access), true);
    assert.equal(availableToMe(DOCS[1], access), false);
    assert.equal(availableToMe(DOCS[1], null), false);
    const r = search(index, MiniSearch, '', { mine: true }, { access });
    assert.deepEqual(ids(r).sort(), ['1', '5', '6', '7', '8']);
    assert.equal(r.counts.mine, 5);
});

test('without a query: by title, or newest first', () => {
    assert.deepEqual(ids(search(index, MiniSearch, '')), ['5', '8', '4', '3', '2', '1', '6', '7']);
    assert.deepEqual(ids(search(index, MiniSearch, '', {}, { sort: 'newest' })).slice(0, 3), ['6', '3', '2']);
});

test('the index survives serialization as the catalog ships it', () => {
    const data = JSON.parse(JSON.stringify(serializeIndex(index, DOCS)));
    assert.deepEqual(data.facets.language, { nob: 4, nno: 2, sme: 1, eng: 1 });
    assert.deepEqual(data.facets.medium, { audio: 5, ebook: 5 });
    const loaded = loadIndex(MiniSearch, data);
    assert.deepEqual(ids(search(loaded, MiniSearch, 'fergen')), ids(search(index, MiniSearch, 'fergen')));
    assert.equal(search(loaded, MiniSearch, 'fergen').results[0].t, 'Fergen');
    assert.throws(() => loadIndex(MiniSearch, { ...data, version: 99 }));
});

test('filters and route parameters round-trip; junk is ignored', () => {
    const f = filtersFromParams(new URLSearchParams('medium=audio&language=se&audience=kids&mine=1'));
    assert.deepEqual(f, { medium: 'audio', language: 'sme', audience: '', mine: true });
    assert.equal(paramsFromFilters('eik', f, 'newest').toString(), 'q=eik&medium=audio&language=sme&mine=1&sort=newest');
});
