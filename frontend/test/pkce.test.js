import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    base64url, randomString, codeChallenge, oidcSettings, authorizationUrl, tokenRequestBody,
    parseCallback, stripCallback, jwtClaims, tokenCookie, readCookie,
} from '../src/pkce.js';

// node 18 has Web Crypto only behind a flag; 20 and browsers have it
if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;

const SETTINGS = {
    authorization_endpoint: 'https://login.example/authorize',
    token_endpoint: 'https://login.example/token',
    client_id: 'digin-spa',
    redirect_uri: 'https://digin.example/',
    scope: 'openid library',
};

test('S256 code challenge: RFC 7636 appendix B', async () => {
    assert.equal(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('verifiers are 43 unreserved characters and differ', () => {
    const a = randomString(), b = randomString();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(base64url(new Uint8Array([251, 255])), '-_8');
});

test('settings at the top level or under "oidc"; incomplete ones are none', () => {
    assert.deepEqual(oidcSettings(SETTINGS), SETTINGS);
    assert.deepEqual(oidcSettings({ demo: true, oidc: SETTINGS }), SETTINGS);
    assert.equal(oidcSettings({ demo: true }), null);
    assert.equal(oidcSettings({ ...SETTINGS, token_endpoint: '' }), null);
    assert.equal(oidcSettings({ ...SETTINGS, scope: undefined }).scope, 'openid');
});

test('the authorization request carries the challenge, never a token', () => {
    const u = new URL(authorizationUrl(SETTINGS, { state: 'st', challenge: 'ch', uiLocale: 'se' }));
    assert.equal(u.origin + u.pathname, SETTINGS.authorization_endpoint);
    const p = Object.fromEntries(u.searchParams);
    assert.deepEqual(p, { response_type: 'code', client_id: 'digin-spa',
        redirect_uri: 'https://digin.example/', scope: 'openid library', state: 'st',
        code_challenge: 'ch', code_challenge_method: 'S256', ui_locales: 'se' });
});

test('the token request sends the verifier', () => {
    const p = new URLSearchParams(tokenRequestBody(SETTINGS, { code: 'c0de', verifier: 'v' }));
    assert.equal(p.get('grant_type'), 'authorization_code');
    assert.equal(p.get('code'), 'c0de');
    assert.equal(p.get('code_verifier'), 'v');
    assert.equal(p.get('redirect_uri'), SETTINGS.redirect_uri);
    assert.equal(p.get('client_id'), 'digin-spa');
});

test('callbacks are recognised and stripped from the address', () => {
    assert.deepEqual(parseCallback('?code=abc&state=xyz'), { code: 'abc', state: 'xyz' });
    assert.deepEqual(parseCallback('?error=access_denied&state=xyz'), { error: 'access_denied', state: 'xyz' });
    assert.equal(parseCallback('?q=fergen'), null);
    assert.equal(stripCallback('https://digin.example/?code=abc&state=xyz&session_state=1#/loans'), '/#/loans');
    assert.equal(stripCallback('https://digin.example/?keep=1&code=abc&state=x'), '/?keep=1');
});

test('JWT claims are read (not verified) for the expiry', () => {
    const enc = o => Buffer.from(JSON.stringify(o)).toString('base64url');
    const t = `${enc({ alg: 'RS256' })}.${enc({ sub: 'ola', exp: 1795283681, name: 'Åse Ø' })}.sig`;
    assert.deepEqual(jwtClaims(t), { sub: 'ola', exp: 1795283681, name: 'Åse Ø' });
    assert.equal(jwtClaims('not-a-jwt'), null);
    assert.equal(jwtClaims('a.b!.c'), null);
});

test('the token cookie: Path=/, SameSite=Strict, Secure on https', () => {
    assert.equal(tokenCookie('digin_token', 'abc', { secure: true, maxAge: 60.7 }),
        'digin_token=abc; Path=/; SameSite=Strict; Max-Age=60; Secure');
    assert.equal(tokenCookie('t', 'abc'), 't=abc; Path=/; SameSite=Strict');
    assert.equal(readCookie('a=1; digin_token=xyz.abc.d; b=2', 'digin_token'), 'xyz.abc.d');
    assert.equal(readCookie('a=1', 'digin_token'), null);
});
