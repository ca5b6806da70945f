import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createI18n, catalogProblems, pickLanguage, LANGUAGES, placeholders } from '../src/i18n.js';
import { ERROR_CODES } from '../src/availability.js';
import nb from '../src/i18n/nb.js';
import nn from '../src/i18n/nn.js';
import se from '../src/i18n/se.js';
import en from '../src/i18n/en.js';

const CATALOGS = { nb, nn, se, en };
const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

test('every language has every key, with the plural forms and placeholders it needs', () => {
    assert.deepEqual(catalogProblems(CATALOGS), []);
});

test('the completeness check finds what is missing or wrong', () => {
    const broken = {
        nb: { a: 'A {x}', b: { one: '{count} bok', other: '{count} bøker' } },
        nn: { a: 'A' },
        se: { a: 'A {x} {y}', b: 'not plural', c: 'extra' },
        en: { a: '', b: { one: '{count} book' } },
    };
    const p = catalogProblems(broken);
    assert.ok(p.includes('nn: missing b'));
    assert.ok(p.includes('nn: a lacks {x}'));
    assert.ok(p.includes('se: a has unknown {y}'));
    assert.ok(p.includes('se: b is not like nb'));
    assert.ok(p.includes('se: extra key c'));
    assert.ok(p.includes('en: a is empty'));
    assert.ok(p.some(x => x.startsWith('en: b lacks')));
});

function sourceFiles(dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
        e.isDirectory() ? (e.name === 'i18n' ? [] : sourceFiles(path.join(dir, e.name)))
            : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []);
}

test('every key the code names exists in the catalogs', () => {
    const namespaces = new Set(Object.keys(nb).map(k => k.split('.')[0]));
    const missing = [];
    for (const file of sourceFiles(SRC)) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(/'([a-z0-9]+(?:\.[A-Za-z0-9_]+)+)'/g)) {
            if (!namespaces.has(m[1].split('.')[0])) continue;
            if (m[1].endsWith('.js')) continue;
            if (!Object.hasOwn(nb, m[1])) missing.push(`${path.basename(file)}: ${m[1]}`);
        }
    }
    assert.deepEqual(missing, []);
});

test('keys built from values exist for every value', () => {
    const need = [
        ...ERROR_CODES.map(c => `error.${c}`),
        ...['network', 'not_found', 'server', 'unknown'].map(c => `error.${c}`),
        ...['new', 'popular', 'young', 'audio', 'all'].map(g => `group.${g}`),
        ...['children', 'youth', 'adult'].map(a => `audience.${a}`),
        ...['ok', 'low', 'exhausted'].map(s => `budget.${s}`),
        ...['light', 'dark', 'sepia'].map(s => `reader.theme.${s}`),
        ...['blocked', 'suspended'].map(s => `status.${s}`),
        ...['ebook', 'audio'].flatMap(m => [`status.quota_exhausted.${m}`, `status.signed_out.${m}`,
            `status.no_access.${m}`, `status.available.${m}`, `quota.left.${m}`, `quota.unlimited.${m}`,
            `action.borrow.${m}`, `borrow.question.${m}`, `medium.${m}`]),
        ...['state', 'denied', 'provider', 'network'].map(e => `auth.error.${e}`),
        ...['nob', 'nno', 'sme', 'eng'].map(l => `language.${l}`),
    ];
    for (const [code, catalog] of Object.entries(CATALOGS)) {
        const missing = need.filter(k => !Object.hasOwn(catalog, k));
        assert.deepEqual(missing, [], code);
    }
});

test('error messages for the token codes tell the patron to sign in again', () => {
    const signin = { nb: /logge? inn/i, nn: /logge? inn/i, se: /čál/i, en: /sign in/i };
    for (const code of ['token_missing', 'token_malformed', 'token_too_large', 'token_expired',
        'token_not_yet_valid', 'signature_invalid', 'issuer_unknown', 'audience_mismatch',
        'algorithm_not_allowed', 'key_unknown', 'claim_invalid', 'token_revoked']) {
        for (const [lang, catalog] of Object.entries(CATALOGS)) {
            assert.match(catalog[`error.${code}`], signin[lang], `${lang} ${code}`);
        }
    }
});

test('plural forms and placeholders are applied', () => {
    const i = createI18n(nb, 'nb');
    assert.equal(i.t('search.count', { count: 1 }), '1 bok passer');
    assert.equal(i.t('search.count', { count: 7 }), '7 bøker passer');
    assert.equal(i.t('quota.left.ebook', { count: 2, limit: 3 }), 'Du har 2 av 3 e-boklån igjen.');
    assert.equal(i.t('no.such.key'), 'no.such.key');
    assert.equal(i.formatDuration(95.6), '1 minutt 36 sekunder');
    assert.equal(i.formatDuration(3 * 3600 + 60), '3 timer 1 minutt');
    assert.equal(i.formatClock(3723), '1:02:03');
    assert.equal(i.formatClock(65), '1:05');
    const se_ = createI18n(se, 'se', nb);
    assert.equal(se_.t('duration.hours', { count: 2 }), '2 diimmu');
    assert.equal(se_.t('duration.hours', { count: 1 }), '1 diibmu');
    const en_ = createI18n(en, 'en', nb);
    assert.match(en_.formatDate('2026-12-03T00:00:00Z'), /December 2026/);
    assert.equal(en_.languageName('sme'), 'Northern Sami');
});

test('the UI language: a stored choice, then the browser, then bokmål', () => {
    assert.equal(pickLanguage('se', ['en']), 'se');
    assert.equal(pickLanguage(null, ['nn-NO', 'nb']), 'nn');
    assert.equal(pickLanguage(null, ['no']), 'nb');
    assert.equal(pickLanguage(null, ['sme']), 'se');
    assert.equal(pickLanguage(null, ['de-DE', 'en-US']), 'en');
    assert.equal(pickLanguage('xx', ['fr']), 'nb');
    assert.deepEqual(LANGUAGES.map(l => l.code), ['nb', 'nn', 'se', 'en']);
    assert.deepEqual([...placeholders('{a} og {b}')], ['a', 'b']);
});
