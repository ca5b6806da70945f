// Templates that escape by default.
//
//   html`<h1 lang="${lang}">${title}</h1>`
//
// Every interpolated value is escaped unless it is itself the result of
// html`` (a SafeHtml) or an array of them.  Nothing from a catalog, a
// feed or a translation reaches innerHTML unescaped.

export class SafeHtml {
    constructor(text) { this.text = text; }
    toString() { return this.text; }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, c => ESCAPES[c]);
}

function render(value) {
    if (value === null || value === undefined || value === false) return '';
    if (value instanceof SafeHtml) return value.text;
    if (Array.isArray(value)) return value.map(render).join('');
    return escapeHtml(value);
}

export function html(strings, ...values) {
    let out = strings[0];
    for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
    return new SafeHtml(out);
}

// Attributes present only when wanted: ${attr('lang', tag)}
export function attr(name, value) {
    if (value === null || value === undefined || value === false || value === '') return new SafeHtml('');
    if (value === true) return new SafeHtml(` ${name}`);
    return new SafeHtml(` ${name}="${escapeHtml(value)}"`);
}

export function mount(element, content) {
    element.innerHTML = render(content);
}
