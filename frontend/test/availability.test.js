import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    accessSet, borrowableSet, quotaFor, budgetState, sourceStatus, titleStatus, quotaRows, errorInfo,
    ERROR_CODES, canBorrow,
} from '../src/availability.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

function me(over = {}) {
    return {
        issuer: 'https://login.digin.test', patron: 'ola', blocked: false,
        library: { id: '0301', name: 'Deichman', county: '03', status: 'active' },
        access: [{ vendor: 'bokskya', media: ['ebook'] }, { vendor: 'lydhuset', media: ['audio'] }],
        quota: { period_days: 30, resets_at: '2026-12-03T00:00:00Z',
            ebook: { limit: 3, used: 1, left: 2 }, audio: { limit: 2, used: 0, left: 2 } },
        budget: { limit: 5000, spent: 120, left: 4880, resets_at: '2026-12-01T00:00:00Z' },
        loans: [{ title: '9788299999012', vendor: 'bokskya', medium: 'ebook', until: '2026-12-12T17:40:02Z' }],
        ...over,
    };
}

const EBOOK = { vendor: 'bokskya', medium: 'ebook', availability: { state: 'available' } };
const AUDIO = { vendor: 'lydhuset', medium: 'audio', availability: { state: 'available' } };

test('access pairs', () => {
    assert.deepEqual([...accessSet(me())], ['bokskya:ebook', 'lydhuset:audio']);
    assert.equal(accessSet(null).size, 0);
});

test('borrowable now: access less used-up quotas, nothing when blocked, suspended or out of budget', () => {
    assert.deepEqual([...borrowableSet(me())], ['bokskya:ebook', 'lydhuset:audio']);
    const used = { period_days: 30, resets_at: 'x', ebook: { limit: 3, used: 3, left: 0 },
        audio: { limit: null } };
    assert.deepEqual([...borrowableSet(me({ quota: used }))], ['lydhuset:audio']);
    assert.equal(borrowableSet(me({ blocked: true })).size, 0);
    assert.equal(borrowableSet(me({ library: { id: '0301', status: 'suspended' } })).size, 0);
    assert.equal(borrowableSet(me({ budget: { limit: 5000, spent: 5000, left: 0 } })).size, 0);
    assert.equal(borrowableSet(null).size, 0);
});

test('quota: limited, unlimited (null), missing medium', () => {
    assert.deepEqual(quotaFor(me(), 'ebook'), { unlimited: false, limit: 3, used: 1, left: 2,
        resetsAt: '2026-12-03T00:00:00Z', periodDays: 30 });
    assert.equal(quotaFor(me({ quota: { period_days: 30, resets_at: 'x', ebook: null } }), 'ebook').unlimited, true);
    assert.equal(quotaFor(me({ quota: null }), 'audio').unlimited, true);
});

test('budget states', () => {
    assert.equal(budgetState(me()).state, 'ok');
    assert.equal(budgetState(me({ budget: { limit: 5000, spent: 4600, left: 400 } })).state, 'low');
    assert.equal(budgetState(me({ budget: { limit: 5000, spent: 5000, left: 0 } })).state, 'exhausted');
    assert.equal(budgetState(me({ budget: null })).state, 'none');
});

test('source status, in the order the patron meets the reasons', () => {
    const code = (m, s = EBOOK, id = '9788293700104') => sourceStatus(m, id, s, NOW).code;
    assert.equal(code(null), 'signed_out');
    assert.equal(code(me({ blocked: true })), 'blocked');
    assert.equal(code(me({ library: { status: 'suspended' } })), 'suspended');
    assert.equal(code(me({ access: [{ vendor: 'lydhuset', media: ['audio'] }] })), 'no_access');
    assert.equal(code(me({ access: [{ vendor: 'bokskya', media: ['audio'] }] })), 'no_access');
    assert.equal(code(me(), EBOOK, '9788299999012'), 'on_loan');
    // a loan that ended no longer counts
    assert.equal(code(me({ loans: [{ title: '9788299999012', vendor: 'bokskya', until: '2026-11-01T00:00:00Z' }] }),
        EBOOK, '9788299999012'), 'available');
    // a loan at another vendor is not this source's loan
    assert.equal(code(me(), AUDIO, '9788299999012'), 'available');
    assert.equal(code(me({ quota: { resets_at: 'r', ebook: { limit: 3, used: 3, left: 0 } } })), 'quota_exhausted');
    assert.equal(code(me({ budget: { limit: 10, spent: 10, left: 0 } })), 'budget_exhausted');
    assert.equal(code(me(), { ...EBOOK, availability: { state: 'unavailable' } }), 'unavailable');
    assert.equal(code(me(), { ...EBOOK, availability: { state: 'available', copies: { total: 2, available: 0 } } }),
        'unavailable');
    assert.equal(code(me()), 'available');
});

test('status carries what to show before borrowing', () => {
    const s = sourceStatus(me(), '9788293700104', EBOOK, NOW);
    assert.equal(s.quota.left, 2);
    assert.equal(s.quota.resetsAt, '2026-12-03T00:00:00Z');
    assert.equal(s.budget.state, 'ok');
    assert.equal(canBorrow(s), true);
    assert.equal(canBorrow(sourceStatus(null, 'x', EBOOK, NOW)), false);
});

test('a title\'s sources, the most useful first', () => {
    const pub = { id: '9788299999012', sources: [AUDIO, EBOOK] };
    assert.deepEqual(titleStatus(me(), pub, NOW).map(s => s.code), ['on_loan', 'available']);
    const m = me({ access: [{ vendor: 'bokskya', media: ['ebook'] }], loans: [] });
    assert.deepEqual(titleStatus(m, pub, NOW).map(s => s.medium), ['ebook', 'audio']);
});

test('quota rows for the media the library grants', () => {
    assert.deepEqual(quotaRows(me()).map(r => [r.medium, r.left]), [['ebook', 2], ['audio', 2]]);
    assert.deepEqual(quotaRows(me({ access: [{ vendor: 'lydhuset', media: ['audio'] }] })).map(r => r.medium), ['audio']);
});

test('every gateway error code maps to an action', () => {
    const expected = {
        token_missing: 'signin', token_malformed: 'signin', token_too_large: 'signin', token_expired: 'signin',
        token_not_yet_valid: 'signin', signature_invalid: 'signin', issuer_unknown: 'signin',
        audience_mismatch: 'signin', algorithm_not_allowed: 'signin', key_unknown: 'signin',
        claim_invalid: 'signin', not_entitled: 'contact', library_suspended: 'contact',
        patron_blocked: 'contact', token_revoked: 'signin', quota_exhausted: 'wait',
        budget_exhausted: 'wait', entitlements_unavailable: 'retry', title_missing: 'none',
    };
    assert.deepEqual([...ERROR_CODES].sort(), Object.keys(expected).sort());
    const status = { quota_exhausted: 429, budget_exhausted: 429, entitlements_unavailable: 503, title_missing: 400 };
    for (const [code, action] of Object.entries(expected)) {
        const s = status[code] || (expected[code] === 'signin' ? 401 : 403);
        const info = errorInfo(s, { error: code });
        assert.equal(info.code, code);
        assert.equal(info.key, `error.${code}`);
        assert.equal(info.action, action, code);
    }
    const q = errorInfo(429, { error: 'quota_exhausted', medium: 'audio', limit: 2, used: 2,
        resets_at: '2026-12-03T00:00:00Z' });
    assert.equal(q.resetsAt, '2026-12-03T00:00:00Z');
    assert.equal(q.medium, 'audio');
});

test('answers without a known code fall back on the status', () => {
    assert.equal(errorInfo(0, null).action, 'retry');
    assert.equal(errorInfo(401, null).action, 'signin');
    assert.equal(errorInfo(403, { error: 'something_new' }).code, 'not_entitled');
    assert.equal(errorInfo(404, null).code, 'not_found');
    assert.equal(errorInfo(502, null).code, 'server');
    assert.equal(errorInfo(418, null).code, 'unknown');
});
