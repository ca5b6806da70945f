// Readium audiobook manifests (application/audiobook+json) for the
// player: tracks, chapters from the toc (#t= fragments), positions.
// Pure functions.

// Where an href of a manifest fetched from manifestUrl (a gateway path
// such as /vendor/lydhuset/manifests/X.json) points, through the gateway:
//   relative ("../audio/1.opus", "1.opus") → resolved against the manifest
//   absolute path ("/audio/X/1.opus")      → /vendor/<vendor>/audio/X/1.opus
//   a full URL on another host             → left as it is
// The fragment is kept.
export function gatewayUrl(href, manifestUrl, vendor) {
    if (typeof href !== 'string' || href === '') return null;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return href;
    if (href.startsWith('//')) return href;
    if (href.startsWith('/')) {
        const prefix = `/vendor/${vendor}/`;
        return href.startsWith(prefix) ? href : `/vendor/${vendor}${href}`;
    }
    const base = new URL(manifestUrl, 'http://gateway.invalid/');
    const u = new URL(href, base);
    return u.pathname + u.search + u.hash;
}

function splitFragment(url) {
    const i = url.indexOf('#');
    return i < 0 ? [url, ''] : [url.slice(0, i), url.slice(i + 1)];
}

// Media fragment "t=12.5" or "t=npt:1:02:03.5" or "t=12,30" → seconds.
export function fragmentTime(fragment) {
    const m = /(?:^|&)t=(?:npt:)?([0-9:.]+)/.exec(fragment || '');
    if (!m) return 0;
    const parts = m[1].split(':').map(Number);
    if (parts.some(Number.isNaN)) return 0;
    return parts.reduce((acc, p) => acc * 60 + p, 0);
}

function flattenToc(items, depth = 0, out = []) {
    for (const item of items || []) {
        out.push({ item, depth });
        flattenToc(item.children, depth + 1, out);
    }
    return out;
}

// → {title, language, duration, tracks[{url, type, duration, start, title}],
//    chapters[{title, track, time, at, depth}], cover}
export function parseManifest(manifest, manifestUrl, vendor) {
    const m = manifest.metadata || {};
    let start = 0;
    const tracks = (manifest.readingOrder || []).map((l, i) => {
        const url = splitFragment(gatewayUrl(l.href, manifestUrl, vendor))[0];
        const t = { url, type: l.type || '', duration: Number(l.duration) || 0, start,
            title: typeof l.title === 'string' ? l.title : '', index: i };
        start += t.duration;
        return t;
    });
    const byUrl = new Map(tracks.map((t, i) => [t.url, i]));
    let chapters = flattenToc(manifest.toc).map(({ item, depth }) => {
        const [url, frag] = splitFragment(gatewayUrl(item.href, manifestUrl, vendor) || '');
        const track = byUrl.get(url);
        if (track === undefined) return null;
        const time = fragmentTime(frag);
        return { title: item.title || '', track, time, at: tracks[track].start + time, depth };
    }).filter(Boolean);
    if (chapters.length === 0) {
        chapters = tracks.map((t, i) => ({ title: t.title, track: i, time: 0, at: t.start, depth: 0 }));
    }
    chapters.sort((a, b) => a.at - b.at);
    const cover = (manifest.resources || []).find(r => r.rel === 'cover'
        || (Array.isArray(r.rel) && r.rel.includes('cover')))
        || (manifest.links || []).find(r => r.rel === 'cover');
    const duration = Number(m.duration) || start;
    return {
        title: typeof m.title === 'string' ? m.title : '',
        language: Array.isArray(m.language) ? m.language[0] : m.language || '',
        duration,
        tracks,
        chapters,
        cover: cover ? gatewayUrl(cover.href, manifestUrl, vendor) : null,
    };
}

// A position in the whole book (seconds) ↔ (track, time in the track).
export function locate(book, at) {
    const total = book.tracks.reduce((s, t) => s + t.duration, 0);
    const clamped = Math.max(0, Math.min(at, total));
    for (let i = 0; i < book.tracks.length; i++) {
        const t = book.tracks[i];
        if (clamped < t.start + t.duration || i === book.tracks.length - 1) {
            return { track: i, time: Math.round(Math.min(clamped - t.start, t.duration) * 1000) / 1000 };
        }
    }
    return { track: 0, time: 0 };
}

export function chapterAt(book, at) {
    let current = 0;
    for (let i = 0; i < book.chapters.length; i++) {
        if (book.chapters[i].at <= at + 0.001) current = i;
    }
    return current;
}

export const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
export const SKIP_SECONDS = 30;
