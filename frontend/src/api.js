// Requests to the gateway (same origin).  API calls carry the token as
// "Authorization: Bearer"; nothing here puts it in a URL.

async function jsonOf(res) {
    const type = res.headers.get('Content-Type') || '';
    if (!/json/.test(type)) return null;
    return res.json().catch(() => null);
}

// → {ok, status, body}; status 0 when the network failed.
async function request(url, { token, method = 'GET', accept = 'application/json' } = {}) {
    const headers = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
        const res = await fetch(url, { method, headers, cache: 'no-store', credentials: 'same-origin' });
        return { ok: res.ok, status: res.status, body: await jsonOf(res) };
    } catch {
        return { ok: false, status: 0, body: null };
    }
}

export function getMe(token) {
    return request('/api/me', { token });
}

// POST /loan/<vendor>/<isbn>: 2xx is a loan made or renewed.
export function borrow(token, href) {
    return request(href, { token, method: 'POST' });
}

// Static files (catalog, config): cached by the browser as usual.
const cache = new Map();
export async function getStatic(url) {
    if (cache.has(url)) return cache.get(url);
    const p = fetch(url, { credentials: 'same-origin' }).then(async res => {
        if (!res.ok) throw Object.assign(new Error(`${url}: ${res.status}`), { status: res.status });
        return res.json();
    });
    cache.set(url, p);
    p.catch(() => cache.delete(url));
    return p;
}

export function getWithCookie(url, accept) {
    return fetch(url, { credentials: 'same-origin', headers: accept ? { Accept: accept } : {} });
}
