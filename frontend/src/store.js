// What the browser remembers for the patron (localStorage): language,
// reading settings, and where each book was left.  Nothing is sent
// anywhere.

const PREFIX = 'digin:';

function read(key, fallback) {
    try {
        const v = localStorage.getItem(PREFIX + key);
        return v === null ? fallback : JSON.parse(v);
    } catch {
        return fallback;
    }
}

function write(key, value) {
    try {
        localStorage.setItem(PREFIX + key, JSON.stringify(value));
    } catch {
        /* storage full or disabled: the setting lasts this visit only */
    }
}

export const getLanguage = () => read('lang', null);
export const setLanguage = code => write('lang', code);

export const READER_DEFAULTS = { fontSize: 100, theme: 'light' };
export const getReaderPrefs = () => ({ ...READER_DEFAULTS, ...read('reader', {}) });
export const setReaderPrefs = prefs => write('reader', prefs);

export const getPlayerPrefs = () => ({ speed: 1, shortcuts: true, ...read('player', {}) });
export const setPlayerPrefs = prefs => write('player', prefs);

export const getPosition = (kind, vendor, id) => read(`pos:${kind}:${vendor}:${id}`, null);
export const setPosition = (kind, vendor, id, pos) =>
    write(`pos:${kind}:${vendor}:${id}`, { ...pos, saved: new Date().toISOString() });
