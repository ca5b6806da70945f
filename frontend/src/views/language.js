// Language choice: bokmål, nynorsk, Northern Sami, English.  Each name
// is written in its own language (and marked so for screen readers).

import { html, attr, mount } from '../dom.js';
import { LANGUAGES } from '../i18n.js';

export async function render(app, route, main) {
    const t = app.t;
    mount(main, html`
      <h1>${t('language.title')}</h1>
      <form id="language-form" class="language-form">
        <fieldset>
          <legend>${t('language.legend')}</legend>
          ${LANGUAGES.map(l => html`<label class="choice choice-large">
              <input type="radio" name="lang" value="${l.code}"${attr('checked', app.i18n.lang === l.code)}>
              <span lang="${l.code}">${l.name}</span></label>`)}
        </fieldset>
        <button type="submit" class="button" id="language-save">${t('language.save')}</button>
      </form>`);
    main.querySelector('#language-form').addEventListener('submit', async e => {
        e.preventDefault();
        const code = new FormData(e.currentTarget).get('lang');
        if (code && code !== app.i18n.lang) {
            await app.setLanguage(code);
            app.announce(app.t('language.changed'));
        }
    });
}
