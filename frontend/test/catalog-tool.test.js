// tools/digin-catalog end to end: two vendor feeds on disk (one with
// copies/holds beside availability, one with Palace-style belongsTo)
// become one catalog directory the SPA can load.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import { loadIndex, search } from '../src/search.js';
import { parseFeed, parsePublication } from '../src/opds.js';

const TOOL = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools', 'digin-catalog');
const BORROW = 'http://opds-spec.org/acquisition/borrow';

function vendor(dir, name, pubs) {
    fs.mkdirSync(path.join(dir, name, 'opds'), { recursive: true });
    fs.mkdirSync(path.join(dir, name, 'covers'), { recursive: true });
    for (const p of pubs) {
        const isbn = p.metadata.identifier.split(':').pop();
        fs.writeFileSync(path.join(dir, name, 'covers', `${isbn}.svg`), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    }
    fs.writeFileSync(path.join(dir, name, 'opds', 'catalog.json'), JSON.stringify({
        metadata: { title: name }, links: [{ rel: 'self', href: '/opds/catalog.json' }], publications: pubs }));
}

function pub(isbn, title, type, extra = {}) {
    return {
        metadata: { identifier: `urn:isbn:${isbn}`, title, language: 'nb', author: 'A. Forfatter', ...extra },
        links: [
            { rel: BORROW, href: `/loans/${isbn}`, type, properties: { availability: { state: 'available' },
                copies: { total: 2, available: 1 } } },
            { rel: 'http://opds-spec.org/acquisition', href: type === 'application/epub+zip'
                ? `/books/${isbn}.epub` : `/manifests/${isbn}.json`, type },
        ],
        images: [{ href: `/covers/${isbn}.svg`, type: 'image/svg+xml' }],
    };
}

test('feeds from two vendors become one catalog with covers and an index', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digin-catalog-'));
    try {
        vendor(dir, 'bokskya', [pub('9788293700104', 'Fergen', 'application/epub+zip'),
            pub('9788293700302', 'Snøen', 'application/epub+zip', { belongsTo: { name: 'Ekornet Eik', position: 2 } })]);
        vendor(dir, 'lydhuset', [pub('9788293700104', 'Fergen', 'application/audiobook+json',
            { narrator: { name: 'espeak-ng' }, duration: 95.6 })]);
        const out = path.join(dir, 'www', 'catalog');
        const stdout = execFileSync(TOOL, [
            '--feed', `bokskya=${path.join(dir, 'bokskya', 'opds', 'catalog.json')}`,
            '--feed', `lydhuset=${path.join(dir, 'lydhuset', 'opds', 'catalog.json')}`,
            '--content', `bokskya=${path.join(dir, 'bokskya')}`,
            '--content', `lydhuset=${path.join(dir, 'lydhuset')}`,
            '--out', out], { encoding: 'utf8' });
        assert.match(stdout, /2 titles, 3 sources/);
        const fergen = parsePublication(JSON.parse(fs.readFileSync(path.join(out, 'publications', '9788293700104.json'))));
        assert.deepEqual(fergen.sources.map(s => [s.borrow, s.content]), [
            ['/loan/bokskya/9788293700104', '/vendor/bokskya/books/9788293700104.epub'],
            ['/loan/lydhuset/9788293700104', '/vendor/lydhuset/manifests/9788293700104.json'],
        ]);
        assert.equal(fergen.cover, '/catalog/covers/bokskya/covers/9788293700104.svg');
        assert.ok(fs.existsSync(path.join(out, 'covers', 'bokskya', 'covers', '9788293700104.svg')));
        assert.ok(fs.existsSync(path.join(out, 'covers', 'lydhuset', 'covers', '9788293700104.svg')));
        const snow = parsePublication(JSON.parse(fs.readFileSync(path.join(out, 'publications', '9788293700302.json'))));
        assert.deepEqual(snow.series, { name: 'Ekornet Eik', position: 2 });
        const root = parseFeed(JSON.parse(fs.readFileSync(path.join(out, 'root.json'))));
        assert.equal(root.numberOfItems, 2);
        assert.deepEqual(root.groups.map(g => g.identifier.split(':').pop()), ['new', 'popular', 'audio']);
        const index = loadIndex(MiniSearch, JSON.parse(fs.readFileSync(path.join(out, 'search.json'))));
        assert.deepEqual(search(index, MiniSearch, 'ekornet').results.map(r => r.id), ['9788293700302']);
        // a second run replaces the catalog whole
        execFileSync(TOOL, ['--feed', `bokskya=${path.join(dir, 'bokskya', 'opds', 'catalog.json')}`, '--out', out]);
        assert.ok(!fs.existsSync(path.join(out, 'covers', 'lydhuset')));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('a synthetic catalog for benchmarks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digin-catalog-'));
    try {
        const out = path.join(dir, 'cat');
        const stdout = execFileSync(TOOL, ['--generate', '300', '--out', out], { encoding: 'utf8' });
        assert.match(stdout, /300 titles/);
        const data = JSON.parse(fs.readFileSync(path.join(out, 'search.json')));
        assert.equal(data.count, 300);
        assert.ok(data.facets.language.sme > 0);
        assert.ok(data.facets.medium.audio > 0 && data.facets.medium.ebook > 0);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('usage errors exit 2, unreadable feeds exit 1', () => {
    assert.equal(spawnSync(TOOL, ['--out', '/tmp/x']).status, 2);
    assert.equal(spawnSync(TOOL, ['--feed', 'nonsense', '--out', '/tmp/x']).status, 2);
    const r = spawnSync(TOOL, ['--feed', 'v=/nonexistent/feed.json', '--out', path.join(os.tmpdir(), 'digin-x')],
        { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read/);
});
