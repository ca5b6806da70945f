// OIDC authorization code flow with PKCE (RFC 7636), as a public client.
//
// Pure functions over Web Crypto (globalThis.crypto in browsers and in
// node 20), so the tests run them as they are.  The browser side (where
// the verifier is kept, the redirect, the code exchange) is in auth.js.

export function base64url(bytes) {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// 32 random bytes → 43 characters of [A-Za-z0-9-_], inside RFC 7636's
// 43..128 and its unreserved alphabet.
export function randomString(n = 32) {
    const bytes = new Uint8Array(n);
    globalThis.crypto.getRandomValues(bytes);
    return base64url(bytes);
}

export async function codeChallenge(verifier) {
    const digest = await globalThis.crypto.subtle.digest('SHA-256',
        new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
}

export const OIDC_KEYS = ['authorization_endpoint', 'token_endpoint', 'client_id', 'redirect_uri'];

// config.json may hold the OIDC settings at its top level or under "oidc".
export function oidcSettings(config) {
    const c = (config && config.oidc) || config || {};
    if (!OIDC_KEYS.every(k => typeof c[k] === 'string' && c[k] !== '')) return null;
    return {
        authorization_endpoint: c.authorization_endpoint,
        token_endpoint: c.token_endpoint,
        client_id: c.client_id,
        redirect_uri: c.redirect_uri,
        scope: c.scope || 'openid',
    };
}

export function authorizationUrl(settings, { state, challenge, uiLocale }) {
    const u = new URL(settings.authorization_endpoint);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('client_id', settings.client_id);
    u.searchParams.set('redirect_uri', settings.redirect_uri);
    u.searchParams.set('scope', settings.scope);
    u.searchParams.set('state', state);
    u.searchParams.set('code_challenge', challenge);
    u.searchParams.set('code_challenge_method', 'S256');
    if (uiLocale) u.searchParams.set('ui_locales', uiLocale);
    return u.toString();
}

// The body of the token request (application/x-www-form-urlencoded).
export function tokenRequestBody(settings, { code, verifier }) {
    return new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: settings.redirect_uri,
        client_id: settings.client_id,
        code_verifier: verifier,
    }).toString();
}

// What came back on the redirect URI: {code, state} or {error} or null
// when this is not a callback.
export function parseCallback(search) {
    const p = new URLSearchParams(search);
    if (p.has('error')) return { error: p.get('error'), state: p.get('state') };
    if (p.has('code') && p.has('state')) return { code: p.get('code'), state: p.get('state') };
    return null;
}

// The URL without the callback's parameters, for history.replaceState.
export function stripCallback(href) {
    const u = new URL(href);
    for (const k of ['code', 'state', 'session_state', 'iss', 'error', 'error_description']) {
        u.searchParams.delete(k);
    }
    return u.pathname + (u.searchParams.toString() ? `?${u.searchParams}` : '') + u.hash;
}

// The claims of a JWT, unverified: only to know when it expires (the
// gateway verifies).  null when it is not a JWT.
export function jwtClaims(token) {
    const parts = typeof token === 'string' ? token.split('.') : [];
    if (parts.length !== 3) return null;
    try {
        const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
        const json = decodeURIComponent(atob(b64 + '==='.slice((b64.length + 3) % 4))
            .split('').map(c => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
        const claims = JSON.parse(json);
        return claims && typeof claims === 'object' ? claims : null;
    } catch {
        return null;
    }
}

// The Set-Cookie-like string the SPA writes to document.cookie.
export function tokenCookie(name, token, { secure, maxAge } = {}) {
    let c = `${name}=${token}; Path=/; SameSite=Strict`;
    if (maxAge !== undefined) c += `; Max-Age=${Math.max(0, Math.floor(maxAge))}`;
    if (secure) c += '; Secure';
    return c;
}

export function readCookie(cookieString, name) {
    for (const part of String(cookieString || '').split(/;\s*/)) {
        const i = part.indexOf('=');
        if (i > 0 && part.slice(0, i) === name) return part.slice(i + 1);
    }
    return null;
}
