import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayUrl, fragmentTime, parseManifest, locate, chapterAt } from '../src/manifest.js';

const URL_ = '/vendor/lydhuset/manifests/9788293700104.json';

test('manifest hrefs go through the vendor path of the gateway', () => {
    assert.equal(gatewayUrl('/audio/X/1.opus', URL_, 'lydhuset'), '/vendor/lydhuset/audio/X/1.opus');
    assert.equal(gatewayUrl('../audio/X/1.opus#t=3', URL_, 'lydhuset'), '/vendor/lydhuset/audio/X/1.opus#t=3');
    assert.equal(gatewayUrl('1.opus', URL_, 'lydhuset'), '/vendor/lydhuset/manifests/1.opus');
    assert.equal(gatewayUrl('/vendor/lydhuset/audio/1.opus', URL_, 'lydhuset'), '/vendor/lydhuset/audio/1.opus');
    assert.equal(gatewayUrl('https://cdn.example/a.mp3', URL_, 'lydhuset'), 'https://cdn.example/a.mp3');
});

test('media fragments', () => {
    assert.equal(fragmentTime('t=0'), 0);
    assert.equal(fragmentTime('t=12.5'), 12.5);
    assert.equal(fragmentTime('t=npt:1:02:03'), 3723);
    assert.equal(fragmentTime('t=30,60'), 30);
    assert.equal(fragmentTime('xywh=1,2,3,4'), 0);
});

const manifest = {
    metadata: { title: 'Fergen', language: 'nb', duration: 95.6 },
    readingOrder: [
        { href: '/audio/X/1.opus', type: 'audio/ogg', duration: 30, title: 'Kaia' },
        { href: '/audio/X/2.opus', type: 'audio/ogg', duration: 40, title: 'Overfarten' },
        { href: '../audio/X/3.opus', type: 'audio/ogg', duration: 25.6, title: 'Brua' },
    ],
    toc: [
        { href: '/audio/X/1.opus#t=0', title: 'Kaia' },
        { href: '/audio/X/2.opus#t=0', title: 'Overfarten',
          children: [{ href: '/audio/X/2.opus#t=20', title: 'Midt på fjorden' }] },
        { href: '/audio/X/3.opus', title: 'Brua' },
        { href: '/audio/elsewhere.opus#t=1', title: 'not in the reading order' },
    ],
    resources: [{ href: '/covers/X.svg', rel: 'cover' }],
};

test('tracks and chapters from readingOrder and toc', () => {
    const b = parseManifest(manifest, URL_, 'lydhuset');
    assert.deepEqual(b.tracks.map(t => [t.url, t.start]), [
        ['/vendor/lydhuset/audio/X/1.opus', 0],
        ['/vendor/lydhuset/audio/X/2.opus', 30],
        ['/vendor/lydhuset/audio/X/3.opus', 70],
    ]);
    assert.deepEqual(b.chapters.map(c => [c.title, c.track, c.time, c.at, c.depth]), [
        ['Kaia', 0, 0, 0, 0],
        ['Overfarten', 1, 0, 30, 0],
        ['Midt på fjorden', 1, 20, 50, 1],
        ['Brua', 2, 0, 70, 0],
    ]);
    assert.equal(b.cover, '/vendor/lydhuset/covers/X.svg');
    assert.equal(b.duration, 95.6);
});

test('without a toc every track is a chapter', () => {
    const b = parseManifest({ ...manifest, toc: undefined }, URL_, 'lydhuset');
    assert.deepEqual(b.chapters.map(c => c.title), ['Kaia', 'Overfarten', 'Brua']);
});

test('positions in the whole book', () => {
    const b = parseManifest(manifest, URL_, 'lydhuset');
    assert.deepEqual(locate(b, 0), { track: 0, time: 0 });
    assert.deepEqual(locate(b, 45), { track: 1, time: 15 });
    assert.deepEqual(locate(b, 1000), { track: 2, time: 25.6 });
    assert.deepEqual(locate(b, -5), { track: 0, time: 0 });
    assert.equal(b.chapters[chapterAt(b, 55)].title, 'Midt på fjorden');
    assert.equal(b.chapters[chapterAt(b, 49)].title, 'Overfarten');
});
