// Help: how borrowing works, limits, reading, listening, keyboard
// shortcuts, signing in, privacy.

import { html, mount } from '../dom.js';

export const PLAYER_KEYS = [
    ['K', 'keys.playPause'],
    ['J', 'keys.back'],
    ['L', 'keys.forward'],
    ['←', 'keys.back'],
    ['→', 'keys.forward'],
    ['P', 'keys.prevChapter'],
    ['N', 'keys.nextChapter'],
    ['-', 'keys.slower'],
    ['+', 'keys.faster'],
];

export const READER_KEYS = [
    ['←', 'keys.prevPage'],
    ['→', 'keys.nextPage'],
    ['Page Up', 'keys.prevPage'],
    ['Page Down', 'keys.nextPage'],
];

function keyTable(app, id, caption, rows) {
    return html`<table class="keys" id="${id}">
        <caption>${caption}</caption>
        <thead><tr><th scope="col">${app.t('keys.key')}</th><th scope="col">${app.t('keys.does')}</th></tr></thead>
        <tbody>${rows.map(([k, key]) => html`<tr><td><kbd>${k}</kbd></td><td>${app.t(key)}</td></tr>`)}</tbody>
      </table>`;
}

export async function render(app, route, main) {
    const t = app.t;
    mount(main, html`
      <h1>${t('help.title')}</h1>
      <p>${t('help.intro')}</p>
      <section aria-labelledby="help-start"><h2 id="help-start">${t('help.start.title')}</h2>
        <p>${t('help.start.text')}</p></section>
      <section aria-labelledby="help-borrow"><h2 id="help-borrow">${t('help.borrow.title')}</h2>
        <p>${t('help.borrow.text')}</p>
        <p>${t('help.limits.text')}</p>
        <p>${t('help.budget.text')}</p></section>
      <section aria-labelledby="help-read"><h2 id="help-read">${t('help.read.title')}</h2>
        <p>${t('help.read.text')}</p>
        ${keyTable(app, 'reader-keys', t('help.read.keys'), READER_KEYS)}</section>
      <section aria-labelledby="help-listen"><h2 id="help-listen">${t('help.listen.title')}</h2>
        <p>${t('help.listen.text')}</p>
        <p>${t('help.listen.keysText')}</p>
        ${keyTable(app, 'player-keys', t('help.listen.keys'), PLAYER_KEYS)}</section>
      <section aria-labelledby="help-signin"><h2 id="help-signin">${t('help.signin.title')}</h2>
        <p>${t('help.signin.text')}</p></section>
      <section aria-labelledby="help-privacy"><h2 id="help-privacy">${t('help.privacy.title')}</h2>
        <p>${t('help.privacy.text')}</p></section>
      <section aria-labelledby="help-more"><h2 id="help-more">${t('help.more.title')}</h2>
        <p>${t('help.more.text')}</p></section>`);
}
