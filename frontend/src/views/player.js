// The player: a Readium audiobook manifest, played with an <audio>
// element that streams from the gateway (Range requests; the token
// cookie goes along).  Chapters from the toc, ±30 s, speed, the position
// remembered in this browser, the Media Session API (lock screen and
// headset buttons) and keyboard shortcuts, which work only while the
// focus is in the player and can be turned off (WCAG 2.1.4).

import { html, attr, mount } from '../dom.js';
import { bcp47 } from '../opds.js';
import { loanOf, errorInfo } from '../availability.js';
import { parseManifest, locate, chapterAt, SPEEDS, SKIP_SECONDS } from '../manifest.js';
import * as api from '../api.js';
import * as store from '../store.js';
import { errorBlock } from '../ui.js';
import { loadPublication } from './title.js';

export async function render(app, route, main) {
    const t = app.t;
    const [vendor, id] = route.parts;
    const simple = content => mount(main, content);
    if (!app.token) {
        return simple(html`<h1>${t('player.title')}</h1><p>${t('reader.signIn')}</p>
          <p><a class="button-link" href="#/signin?return=${encodeURIComponent(location.hash)}">${t('auth.signIn')}</a></p>`);
    }
    let pub;
    try {
        pub = await loadPublication(id);
    } catch {
        return simple(html`<h1>${t('title.missing')}</h1><p>${t('title.missingText')}</p>`);
    }
    const source = pub.sources.find(s => s.vendor === vendor && s.medium === 'audio');
    if (!source || !source.content) return simple(html`<h1>${pub.title}</h1><p>${t('player.noAudio')}</p>`);
    if (!loanOf(app.me, id, vendor)) {
        return simple(html`<h1>${pub.title}</h1><p>${t('player.borrowFirst')}</p>
          <p><a class="button-link" href="#/title/${encodeURIComponent(id)}">${t('reader.toTitle')}</a></p>`);
    }
    const lang = bcp47(pub.language);
    simple(html`<h1${attr('lang', lang)}>${pub.title}</h1><p class="loading" role="status">${t('player.loading')}</p>`);

    let res;
    try {
        res = await api.getWithCookie(source.content, 'application/audiobook+json');
    } catch {
        res = null;
    }
    const manifest = res && res.ok ? await res.json().catch(() => null) : null;
    if (!manifest) {
        const body = res ? await res.json().catch(() => null) : null;
        const info = res && res.ok ? { code: 'server', key: 'error.server', action: 'retry' }
            : errorInfo(res ? res.status : 0, body);
        simple(html`<h1${attr('lang', lang)}>${pub.title}</h1>${errorBlock(app, info, { returnTo: location.hash })}`);
        main.querySelector('[data-action=retry]')?.addEventListener('click', () => app.go(location.hash));
        return {};
    }
    const book = parseManifest(manifest, source.content, vendor);
    if (book.tracks.length === 0) return simple(html`<h1>${pub.title}</h1><p>${t('player.noAudio')}</p>`);
    const total = book.tracks.reduce((s, tr) => s + tr.duration, 0) || book.duration;
    let prefs = store.getPlayerPrefs();
    const saved = store.getPosition('audio', vendor, id);
    const cover = pub.cover || book.cover;

    mount(main, html`
      <section class="player" id="player" aria-labelledby="player-title">
        <a href="#/title/${encodeURIComponent(id)}" class="back-link">${t('reader.back')}</a>
        <div class="player-head">
          ${cover ? html`<img class="cover cover-large" src="${cover}" alt="" width="200" height="300">` : ''}
          <div>
            <h1 id="player-title"${attr('lang', lang)}>${pub.title}</h1>
            ${pub.authors.length ? html`<p>${pub.authors.map(a => a.name).join(', ')}</p>` : ''}
            ${pub.narrators.length ? html`<p>${t('title.narrator')}: ${pub.narrators.map(a => a.name).join(', ')}</p>` : ''}
            <p id="chapter-now" aria-live="polite"></p>
          </div>
        </div>
        <audio id="audio" preload="metadata"></audio>
        <div class="position">
          <label for="seek">${t('player.position')}</label>
          <input type="range" id="seek" min="0" max="${Math.floor(total)}" step="1" value="0">
          <p class="clock"><span id="elapsed">0:00</span> / <span id="total">${app.i18n.formatClock(total)}</span></p>
        </div>
        <div class="controls" role="group" aria-label="${t('player.controls')}">
          <button type="button" class="button-quiet" id="prev-chapter">${t('player.prevChapter')}</button>
          <button type="button" class="button-quiet" id="back">${t('player.back', { seconds: SKIP_SECONDS })}</button>
          <button type="button" class="button play" id="play">${t('player.play')}</button>
          <button type="button" class="button-quiet" id="forward">${t('player.forward', { seconds: SKIP_SECONDS })}</button>
          <button type="button" class="button-quiet" id="next-chapter">${t('player.nextChapter')}</button>
        </div>
        <div class="player-settings">
          <label for="speed">${t('player.speed')}</label>
          <select id="speed">${SPEEDS.map(s => html`<option value="${s}"${attr('selected', s === prefs.speed)}>${
            t('player.speedValue', { speed: s.toLocaleString(app.i18n.locale) })}</option>`)}</select>
          <label class="choice"><input type="checkbox" id="shortcuts"${attr('checked', prefs.shortcuts)}>
            ${t('player.shortcuts')}</label>
          <a href="#/help" id="shortcuts-help">${t('player.shortcutsHelp')}</a>
        </div>
        <p id="player-error" role="alert"></p>
        <section aria-labelledby="chapters-heading">
          <h2 id="chapters-heading">${t('player.chapters')}</h2>
          <ol class="chapters" id="chapters">
            ${book.chapters.map((c, i) => html`<li class="depth-${Math.min(c.depth, 3)}">
              <button type="button" class="chapter" data-chapter="${i}"${attr('lang', lang)}>
                <span class="chapter-title">${c.title || t('player.chapterN', { n: i + 1 })}</span>
                <span class="chapter-time">${app.i18n.formatClock(c.at)}</span></button></li>`)}
          </ol>
        </section>
      </section>`);

    const audio = main.querySelector('#audio');
    const seek = main.querySelector('#seek');
    const play = main.querySelector('#play');
    const elapsed = main.querySelector('#elapsed');
    const chapterNow = main.querySelector('#chapter-now');
    const errorEl = main.querySelector('#player-error');
    let track = -1;
    let pendingTime = 0;
    let seeking = false;
    let lastSaved = 0;
    let currentChapter = -1;

    // before the track's metadata has loaded, the time it will start at
    const position = () => (track >= 0
        ? book.tracks[track].start + (pendingTime || audio.currentTime || 0) : 0);

    function load(trackIndex, time, autoplay) {
        if (trackIndex !== track) {
            track = trackIndex;
            pendingTime = time;
            audio.src = book.tracks[track].url;
            audio.playbackRate = prefs.speed;
            audio.load();
        } else if (audio.readyState < 1) {
            pendingTime = time;
        } else {
            audio.currentTime = time;
        }
        if (autoplay) audio.play().catch(() => {});
        refresh();
    }

    function goTo(at, autoplay = !audio.paused) {
        const l = locate(book, at);
        load(l.track, l.time, autoplay);
    }

    function save() {
        store.setPosition('audio', vendor, id, { at: Math.round(position() * 10) / 10, speed: prefs.speed });
    }

    function refresh() {
        const at = position();
        if (!seeking) seek.value = String(Math.floor(at));
        const valueText = t('player.positionText', { elapsed: app.i18n.formatDuration(at),
            total: app.i18n.formatDuration(total) });
        seek.setAttribute('aria-valuetext', valueText);
        elapsed.textContent = app.i18n.formatClock(at);
        const c = chapterAt(book, at);
        if (c !== currentChapter) {
            currentChapter = c;
            const title = book.chapters[c] ? book.chapters[c].title || t('player.chapterN', { n: c + 1 }) : '';
            chapterNow.textContent = title ? t('player.nowPlaying', { chapter: title }) : '';
            for (const b of main.querySelectorAll('[data-chapter]')) {
                if (Number(b.dataset.chapter) === c) b.setAttribute('aria-current', 'true');
                else b.removeAttribute('aria-current');
            }
            updateMediaSession();
        }
        if ('mediaSession' in navigator && navigator.mediaSession.setPositionState && total > 0) {
            try {
                navigator.mediaSession.setPositionState({ duration: total, playbackRate: audio.playbackRate || 1,
                    position: Math.min(at, total) });
            } catch { /* some browsers refuse while loading */ }
        }
    }

    function setPlaying(playing) {
        play.textContent = playing ? t('player.pause') : t('player.play');
        if ('mediaSession' in navigator) navigator.mediaSession.playbackState = playing ? 'playing' : 'paused';
    }

    function updateMediaSession() {
        if (!('mediaSession' in navigator) || typeof MediaMetadata === 'undefined') return;
        const c = book.chapters[currentChapter];
        navigator.mediaSession.metadata = new MediaMetadata({
            title: c && c.title ? `${pub.title}: ${c.title}` : pub.title,
            artist: pub.authors.map(a => a.name).join(', '),
            album: pub.title,
            artwork: cover ? [{ src: new URL(cover, location.href).href }] : [],
        });
    }

    const skip = s => goTo(position() + s);
    const chapter = step => {
        const at = position();
        let c = chapterAt(book, at);
        // "previous" within the first seconds of a chapter goes to the one before
        if (step < 0 && at - book.chapters[c].at > 3) step = 0;
        c = Math.max(0, Math.min(book.chapters.length - 1, c + step));
        goTo(book.chapters[c].at);
    };
    const setSpeed = s => {
        prefs = { ...prefs, speed: s };
        store.setPlayerPrefs(prefs);
        audio.playbackRate = s;
        main.querySelector('#speed').value = String(s);
    };
    const toggle = () => (audio.paused ? audio.play().catch(() => {}) : audio.pause());

    audio.addEventListener('loadedmetadata', () => {
        if (pendingTime) {
            audio.currentTime = Math.min(pendingTime, audio.duration || pendingTime);
            pendingTime = 0;
        }
        audio.playbackRate = prefs.speed;
    });
    audio.addEventListener('timeupdate', () => {
        refresh();
        if (Math.abs(position() - lastSaved) >= 5) {
            lastSaved = position();
            save();
        }
    });
    audio.addEventListener('play', () => { errorEl.textContent = ''; setPlaying(true); });
    audio.addEventListener('pause', () => { setPlaying(false); save(); });
    audio.addEventListener('ended', () => {
        if (track + 1 < book.tracks.length) load(track + 1, 0, true);
        else { setPlaying(false); save(); }
    });
    audio.addEventListener('error', async () => {
        // the element does not say why: ask the gateway for the reason
        let info = { code: 'server', key: 'error.server', action: 'retry' };
        try {
            const r = await fetch(book.tracks[track].url, { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin' });
            if (!r.ok) info = errorInfo(r.status, await r.json().catch(() => null));
            else info = { code: 'format', key: 'player.format', action: 'none' };
        } catch {
            info = errorInfo(0, null);
        }
        mount(errorEl, errorBlock(app, info, { id: 'player-error-message', returnTo: location.hash }));
        errorEl.querySelector('[data-action=retry]')?.addEventListener('click', () => goTo(position(), true));
        setPlaying(false);
    });

    play.addEventListener('click', toggle);
    main.querySelector('#back').addEventListener('click', () => skip(-SKIP_SECONDS));
    main.querySelector('#forward').addEventListener('click', () => skip(SKIP_SECONDS));
    main.querySelector('#prev-chapter').addEventListener('click', () => chapter(-1));
    main.querySelector('#next-chapter').addEventListener('click', () => chapter(1));
    main.querySelector('#speed').addEventListener('change', e => setSpeed(Number(e.target.value)));
    main.querySelector('#shortcuts').addEventListener('change', e => {
        prefs = { ...prefs, shortcuts: e.target.checked };
        store.setPlayerPrefs(prefs);
    });
    seek.addEventListener('input', () => { seeking = true; });
    seek.addEventListener('change', () => { seeking = false; goTo(Number(seek.value)); });
    main.querySelector('#chapters').addEventListener('click', e => {
        const b = e.target.closest('[data-chapter]');
        if (b) goTo(book.chapters[Number(b.dataset.chapter)].at, true);
    });

    // shortcuts: only inside the player, never while typing or on a
    // control that uses the same key
    const player = main.querySelector('#player');
    player.addEventListener('keydown', e => {
        if (!prefs.shortcuts || e.altKey || e.ctrlKey || e.metaKey) return;
        const el = e.target;
        const tag = el.tagName;
        if (tag === 'SELECT' || tag === 'TEXTAREA' || (tag === 'INPUT' && el.type !== 'checkbox')) return;
        const k = e.key;
        const actions = {
            k: toggle, K: toggle, j: () => skip(-SKIP_SECONDS), J: () => skip(-SKIP_SECONDS),
            l: () => skip(SKIP_SECONDS), L: () => skip(SKIP_SECONDS),
            ArrowLeft: () => skip(-SKIP_SECONDS), ArrowRight: () => skip(SKIP_SECONDS),
            n: () => chapter(1), N: () => chapter(1), p: () => chapter(-1), P: () => chapter(-1),
            '+': () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(prefs.speed) + 1)]),
            '-': () => setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(prefs.speed) - 1)]),
        };
        if (actions[k]) {
            e.preventDefault();
            actions[k]();
        }
    });

    if ('mediaSession' in navigator) {
        const ms = navigator.mediaSession;
        const handlers = {
            play: () => audio.play().catch(() => {}),
            pause: () => audio.pause(),
            seekbackward: d => skip(-(d.seekOffset || SKIP_SECONDS)),
            seekforward: d => skip(d.seekOffset || SKIP_SECONDS),
            previoustrack: () => chapter(-1),
            nexttrack: () => chapter(1),
            seekto: d => goTo(d.seekTime),
        };
        for (const [action, fn] of Object.entries(handlers)) {
            try { ms.setActionHandler(action, fn); } catch { /* not supported here */ }
        }
    }

    goTo(saved && typeof saved.at === 'number' ? saved.at : 0, false);
    setPlaying(false);

    const onHide = () => save();
    window.addEventListener('pagehide', onHide);
    return {
        cleanup() {
            save();
            audio.pause();
            audio.removeAttribute('src');
            audio.load();
            window.removeEventListener('pagehide', onHide);
            if ('mediaSession' in navigator) {
                for (const a of ['play', 'pause', 'seekbackward', 'seekforward', 'previoustrack', 'nexttrack', 'seekto']) {
                    try { navigator.mediaSession.setActionHandler(a, null); } catch { /* ignore */ }
                }
                navigator.mediaSession.metadata = null;
            }
        },
    };
}
