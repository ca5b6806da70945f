// Signing in and out in the browser.
//
// The patron's token lives in one place: the cookie named in config.json
// (default digin_token), Path=/, SameSite=Strict, Secure on https, and
// expiring with the token.  API calls read it from there and send it as
// "Authorization: Bearer"; <audio> and the EPUB fetch send the cookie
// itself.  The token never appears in a URL.  The OIDC code does (the
// protocol puts it there); it is exchanged at once and removed from the
// address and the history.

import {
    randomString, codeChallenge, oidcSettings, authorizationUrl, tokenRequestBody, parseCallback,
    stripCallback, jwtClaims, tokenCookie, readCookie,
} from './pkce.js';

const PENDING = 'digin:oidc';
const NAME = 'digin:name';

// config.json: "token_cookie" (or "tokenCookie"), default digin_token
export function cookieName(config) {
    const name = config && (config.token_cookie ?? config.tokenCookie);
    return typeof name === 'string' && /^[A-Za-z0-9_-]+$/.test(name) ? name : 'digin_token';
}

function secure() {
    return location.protocol === 'https:';
}

export function currentToken(config) {
    const token = readCookie(document.cookie, cookieName(config));
    if (!token) return null;
    const claims = jwtClaims(token);
    if (claims && typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
        signOut(config);
        return null;
    }
    return token;
}

export function displayName(token) {
    const stored = localStorage.getItem(NAME);
    if (stored) return stored;
    const c = jwtClaims(token) || {};
    return c.name || c.given_name || c.preferred_username || c.sub || '';
}

export function signInWithToken(config, token, name) {
    const claims = jwtClaims(token);
    const maxAge = claims && typeof claims.exp === 'number'
        ? claims.exp - Math.floor(Date.now() / 1000) : undefined;
    document.cookie = tokenCookie(cookieName(config), token, { secure: secure(), maxAge });
    if (name) localStorage.setItem(NAME, name);
    else localStorage.removeItem(NAME);
}

export function signOut(config) {
    document.cookie = tokenCookie(cookieName(config), '', { secure: secure(), maxAge: 0 });
    localStorage.removeItem(NAME);
}

export function oidcConfigured(config) {
    return oidcSettings(config) !== null;
}

// Off to the identity provider; back at redirect_uri with ?code&state.
export async function startOidc(config, { lang, returnTo }) {
    const settings = oidcSettings(config);
    const verifier = randomString(32);
    const state = randomString(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, returnTo: returnTo || '#/' }));
    const challenge = await codeChallenge(verifier);
    location.assign(authorizationUrl(settings, { state, challenge, uiLocale: lang }));
}

// On start-up: finish a sign-in that came back.  Returns null (not a
// callback), {returnTo} or {error}.
export async function completeOidc(config) {
    const cb = parseCallback(location.search);
    if (!cb) return null;
    history.replaceState(null, '', stripCallback(location.href));
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
    sessionStorage.removeItem(PENDING);
    const settings = oidcSettings(config);
    if (!pending || !settings || cb.state !== pending.state) return { error: 'state' };
    if (cb.error) return { error: cb.error === 'access_denied' ? 'denied' : 'provider' };
    try {
        const res = await fetch(settings.token_endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
            body: tokenRequestBody(settings, { code: cb.code, verifier: pending.verifier }),
            credentials: 'omit',
        });
        const body = await res.json().catch(() => null);
        if (!res.ok || !body || typeof body.access_token !== 'string') return { error: 'provider' };
        signInWithToken(config, body.access_token, null);
        return { returnTo: pending.returnTo };
    } catch {
        return { error: 'network' };
    }
}
