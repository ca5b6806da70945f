// Translation: every string the patron sees comes from a catalog in
// src/i18n/<lang>.js.  A catalog maps a key to a string or, for counts,
// to plural forms ({one, other}; Northern Sami also has {two}).
// Placeholders are {name}.  Pure; the browser loads a catalog with a
// dynamic import.

export const LANGUAGES = [
    { code: 'nb', name: 'Norsk bokmål', locale: 'nb-NO' },
    { code: 'nn', name: 'Norsk nynorsk', locale: 'nn-NO' },
    { code: 'se', name: 'Davvisámegiella', locale: 'se-NO' },
    { code: 'en', name: 'English', locale: 'en-GB' },
];
export const DEFAULT_LANGUAGE = 'nb';

// The UI language: a stored choice, else the browser's first language we
// have ('no' counts as bokmål), else bokmål.
export function pickLanguage(stored, preferred = []) {
    const codes = LANGUAGES.map(l => l.code);
    if (codes.includes(stored)) return stored;
    for (const tag of preferred) {
        const p = String(tag).toLowerCase().split('-')[0];
        if (codes.includes(p)) return p;
        if (p === 'no' || p === 'nob') return 'nb';
        if (p === 'nno') return 'nn';
        if (p === 'sme') return 'se';
    }
    return DEFAULT_LANGUAGE;
}

export function placeholders(text) {
    return new Set([...String(text).matchAll(/\{(\w+)\}/g)].map(m => m[1]));
}

function interpolate(text, params) {
    return String(text).replace(/\{(\w+)\}/g, (all, name) =>
        (params && params[name] !== undefined ? String(params[name]) : all));
}

export function localeOf(lang) {
    return (LANGUAGES.find(l => l.code === lang) || LANGUAGES[0]).locale;
}

export function createI18n(catalog, lang, fallback = null) {
    const locale = localeOf(lang);
    const plural = new Intl.PluralRules(locale);
    const dateSupported = Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;

    function lookup(key) {
        if (catalog && Object.hasOwn(catalog, key)) return catalog[key];
        if (fallback && Object.hasOwn(fallback, key)) return fallback[key];
        return undefined;
    }

    function t(key, params) {
        const entry = lookup(key);
        if (entry === undefined) return key;
        if (typeof entry === 'object') {
            const n = params && typeof params.count === 'number' ? params.count : 0;
            const form = entry[plural.select(n)] ?? entry.other;
            return interpolate(form, params);
        }
        return interpolate(entry, params);
    }

    function has(key) {
        return lookup(key) !== undefined;
    }

    function formatDate(value, { time = false } = {}) {
        const d = value instanceof Date ? value : new Date(value);
        if (Number.isNaN(d.getTime())) return '';
        if (!dateSupported) {
            const pad = n => String(n).padStart(2, '0');
            const s = `${d.getDate()}.${d.getMonth() + 1}.${d.getFullYear()}`;
            return time ? `${s} ${pad(d.getHours())}:${pad(d.getMinutes())}` : s;
        }
        const opts = { day: 'numeric', month: 'long', year: 'numeric' };
        if (time) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
        return new Intl.DateTimeFormat(locale, opts).format(d);
    }

    // "1 hour 5 minutes" style, for durations of books.
    function formatDuration(seconds) {
        const total = Math.round(Number(seconds) || 0);
        const h = Math.floor(total / 3600);
        const m = Math.floor((total % 3600) / 60);
        const s = total % 60;
        const parts = [];
        if (h) parts.push(t('duration.hours', { count: h }));
        if (m) parts.push(t('duration.minutes', { count: m }));
        if (!h && (s || !m)) parts.push(t('duration.seconds', { count: s }));
        return parts.join(' ');
    }

    // 1:02:03 / 2:03, for the player's clock.
    function formatClock(seconds) {
        const total = Math.max(0, Math.floor(Number(seconds) || 0));
        const h = Math.floor(total / 3600);
        const m = Math.floor((total % 3600) / 60);
        const s = String(total % 60).padStart(2, '0');
        return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
    }

    function languageName(code3) {
        const key = `language.${code3}`;
        if (has(key)) return t(key);
        try {
            return new Intl.DisplayNames([locale], { type: 'language' }).of(code3) || code3;
        } catch {
            return code3;
        }
    }

    return { lang, locale, t, has, formatDate, formatDuration, formatClock, languageName };
}

// Problems in a set of catalogs ({nb: {...}, nn: {...}, ...}), against the
// reference (bokmål): missing or extra keys, plural forms the language
// needs, placeholders that differ.  Used by the tests.
export function catalogProblems(catalogs, reference = DEFAULT_LANGUAGE) {
    const problems = [];
    const ref = catalogs[reference];
    for (const { code, locale } of LANGUAGES) {
        const cat = catalogs[code];
        if (!cat) { problems.push(`${code}: no catalog`); continue; }
        const forms = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
        for (const key of Object.keys(ref)) {
            if (!Object.hasOwn(cat, key)) { problems.push(`${code}: missing ${key}`); continue; }
            const r = ref[key], v = cat[key];
            if (typeof r !== typeof v) { problems.push(`${code}: ${key} is not like ${reference}`); continue; }
            const texts = typeof v === 'object' ? Object.values(v) : [v];
            if (texts.some(x => typeof x !== 'string' || x.trim() === '')) {
                problems.push(`${code}: ${key} is empty`);
            }
            if (typeof v === 'object') {
                for (const f of forms) {
                    if (f !== 'other' && !['one', 'two'].includes(f)) continue;
                    if (!Object.hasOwn(v, f) && !(f === 'two' && Object.hasOwn(v, 'other'))) {
                        problems.push(`${code}: ${key} lacks the plural form "${f}"`);
                    }
                }
                if (!Object.hasOwn(v, 'other')) problems.push(`${code}: ${key} lacks "other"`);
            }
            const want = placeholders(typeof r === 'object' ? r.other : r);
            for (const text of texts) {
                const got = placeholders(text);
                for (const p of got) {
                    if (!want.has(p) && p !== 'count') problems.push(`${code}: ${key} has unknown {${p}}`);
                }
            }
            const other = placeholders(typeof v === 'object' ? v.other : v);
            for (const p of want) {
                if (!other.has(p)) problems.push(`${code}: ${key} lacks {${p}}`);
            }
        }
        for (const key of Object.keys(cat)) {
            if (!Object.hasOwn(ref, key)) problems.push(`${code}: extra key ${key}`);
        }
    }
    return problems;
}
