// The accessibility statement (tilgjengelighetserklæring), which Norwegian
// public bodies must publish for WCAG 2.1 AA.

import { html, mount } from '../dom.js';

export async function render(app, route, main) {
    const t = app.t;
    mount(main, html`
      <h1>${t('a11y.title')}</h1>
      <p>${t('a11y.intro')}</p>
      <section aria-labelledby="a11y-status"><h2 id="a11y-status">${t('a11y.status.title')}</h2>
        <p>${t('a11y.status.text')}</p></section>
      <section aria-labelledby="a11y-done"><h2 id="a11y-done">${t('a11y.done.title')}</h2>
        <ul>
          <li>${t('a11y.done.keyboard')}</li>
          <li>${t('a11y.done.screenreader')}</li>
          <li>${t('a11y.done.zoom')}</li>
          <li>${t('a11y.done.motion')}</li>
          <li>${t('a11y.done.language')}</li>
          <li>${t('a11y.done.shortcuts')}</li>
        </ul></section>
      <section aria-labelledby="a11y-known"><h2 id="a11y-known">${t('a11y.known.title')}</h2>
        <ul>
          <li>${t('a11y.known.books')}</li>
          <li>${t('a11y.known.audio')}</li>
        </ul></section>
      <section aria-labelledby="a11y-feedback"><h2 id="a11y-feedback">${t('a11y.feedback.title')}</h2>
        <p>${t('a11y.feedback.text')}</p>
        <p>${t('a11y.enforcement')}</p></section>
      <p class="hint">${t('a11y.updated')}</p>`);
}
