import { html, mount } from '../dom.js';

export async function render(app, route, main) {
    mount(main, html`<h1>${app.t('notfound.title')}</h1>
        <p>${app.t('notfound.text')}</p>
        <p><a href="#/">${app.t('nav.home')}</a></p>`);
}
