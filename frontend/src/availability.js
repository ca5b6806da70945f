// What the patron may do with a title, from the gateway's /api/me
// (digin_whoami) and the title's sources; and what a gateway refusal
// means for the patron.  Pure functions; the views turn the results into
// words through the i18n catalogs.

// "vendor:medium" pairs the patron's library grants.
export function accessSet(me) {
    const set = new Set();
    if (!me || !Array.isArray(me.access)) return set;
    for (const a of me.access) {
        for (const m of a.media || []) set.add(`${a.vendor}:${m}`);
    }
    return set;
}

// The pairs the patron may borrow now: none while the card is blocked,
// the library's access suspended or its budget for the month spent, and
// no medium whose quota for the period is used up.
export function borrowableSet(me) {
    if (!me || me.blocked || (me.library && me.library.status === 'suspended')
        || budgetState(me).state === 'exhausted') {
        return new Set();
    }
    return new Set([...accessSet(me)].filter(pair => {
        const q = quotaFor(me, pair.slice(pair.indexOf(':') + 1));
        return q.unlimited || q.left > 0;
    }));
}

export function quotaFor(me, medium) {
    const q = me && me.quota;
    if (!q || !q[medium]) return { unlimited: true, resetsAt: (q && q.resets_at) || null };
    const { limit, used, left } = q[medium];
    if (limit === null || limit === undefined) {
        return { unlimited: true, resetsAt: q.resets_at || null };
    }
    return {
        unlimited: false,
        limit,
        used: used ?? Math.max(0, limit - (left ?? limit)),
        left: left ?? Math.max(0, limit - (used ?? 0)),
        resetsAt: q.resets_at || null,
        periodDays: q.period_days ?? null,
    };
}

// The library's budget for the month: 'none' (no budget set), 'ok',
// 'low' (under a tenth left) or 'exhausted'.
export function budgetState(me) {
    const b = me && me.budget;
    if (!b || b.limit === null || b.limit === undefined) return { state: 'none' };
    const left = b.left ?? Math.max(0, b.limit - (b.spent ?? 0));
    const state = left <= 0 ? 'exhausted' : left < b.limit / 10 ? 'low' : 'ok';
    return { state, limit: b.limit, spent: b.spent ?? b.limit - left, left,
        resetsAt: b.resets_at || null };
}

export function loanOf(me, id, vendor) {
    if (!me || !Array.isArray(me.loans)) return null;
    return me.loans.find(l => l.title === id && (!vendor || l.vendor === vendor)) || null;
}

function isActive(loan, now) {
    return loan && (!loan.until || Date.parse(loan.until) > now);
}

// The state of one source of a title for this patron, in the order the
// patron meets the reasons:
//   signed_out, blocked, suspended, no_access, on_loan, quota_exhausted,
//   budget_exhausted, unavailable (the vendor says no copy is free),
//   available.
export function sourceStatus(me, id, source, now = Date.now()) {
    const out = { vendor: source.vendor, medium: source.medium };
    if (!me) return { ...out, code: 'signed_out' };
    if (me.blocked) return { ...out, code: 'blocked' };
    if (me.library && me.library.status === 'suspended') return { ...out, code: 'suspended' };
    if (!accessSet(me).has(`${source.vendor}:${source.medium}`)) {
        return { ...out, code: 'no_access' };
    }
    const loan = loanOf(me, id, source.vendor);
    if (isActive(loan, now)) return { ...out, code: 'on_loan', until: loan.until || null };
    const quota = quotaFor(me, source.medium);
    const budget = budgetState(me);
    const detail = { ...out, quota, budget };
    if (!quota.unlimited && quota.left <= 0) return { ...detail, code: 'quota_exhausted' };
    if (budget.state === 'exhausted') return { ...detail, code: 'budget_exhausted' };
    const a = source.availability || {};
    if (a.state === 'unavailable' || (a.copies && a.copies.available === 0 && a.copies.total > 0)) {
        return { ...detail, code: 'unavailable', copies: a.copies, holds: a.holds };
    }
    return { ...detail, code: 'available', copies: a.copies, holds: a.holds };
}

const ORDER = ['on_loan', 'available', 'unavailable', 'quota_exhausted', 'budget_exhausted',
    'no_access', 'suspended', 'blocked', 'signed_out'];

// All sources of a title, the most useful first (a loan the patron has,
// then what can be borrowed now); e-book before audio when equal.
export function titleStatus(me, pub, now = Date.now()) {
    return pub.sources
        .map(s => ({ ...sourceStatus(me, pub.id, s, now), source: s }))
        .sort((a, b) => (ORDER.indexOf(a.code) - ORDER.indexOf(b.code))
            || (a.medium === b.medium ? 0 : a.medium === 'ebook' ? -1 : 1));
}

export function canBorrow(status) {
    return status.code === 'available' || status.code === 'unavailable';
}

// Rows for "my loans": each medium the library grants, with its quota.
export function quotaRows(me) {
    const media = new Set();
    for (const a of (me && me.access) || []) for (const m of a.media || []) media.add(m);
    return ['ebook', 'audio'].filter(m => media.has(m)).map(m => ({ medium: m, ...quotaFor(me, m) }));
}

// Gateway refusals: the reason code (the JSON body's `error`, else the
// status) → what the patron is told and can do:
//   signin  sign in again (the token is missing or not accepted)
//   contact ask the library (not entitled, suspended, blocked, revoked)
//   wait    a limit is reached; it resets at resetsAt
//   retry   try again shortly
//   none    nothing to do but pick another title
export const TOKEN_ERRORS = [
    'token_missing', 'token_malformed', 'token_too_large', 'token_expired',
    'token_not_yet_valid', 'signature_invalid', 'issuer_unknown', 'audience_mismatch',
    'algorithm_not_allowed', 'key_unknown', 'claim_invalid',
];
export const ACCESS_ERRORS = ['not_entitled', 'library_suspended', 'patron_blocked', 'token_revoked'];
export const LIMIT_ERRORS = ['quota_exhausted', 'budget_exhausted'];
export const ERROR_CODES = [...TOKEN_ERRORS, ...ACCESS_ERRORS, ...LIMIT_ERRORS,
    'entitlements_unavailable', 'title_missing'];

export function errorInfo(status, body) {
    const code = body && typeof body.error === 'string' && ERROR_CODES.includes(body.error)
        ? body.error : null;
    if (code) {
        const info = { code, key: `error.${code}` };
        if (TOKEN_ERRORS.includes(code)) info.action = 'signin';
        else if (ACCESS_ERRORS.includes(code)) info.action = code === 'token_revoked' ? 'signin' : 'contact';
        else if (LIMIT_ERRORS.includes(code)) {
            info.action = 'wait';
            info.resetsAt = body.resets_at || null;
            if (body.medium) info.medium = body.medium;
        } else if (code === 'entitlements_unavailable') info.action = 'retry';
        else info.action = 'none';
        return info;
    }
    if (status === 0) return { code: 'network', key: 'error.network', action: 'retry' };
    if (status === 401) return { code: 'token_missing', key: 'error.token_missing', action: 'signin' };
    if (status === 403) return { code: 'not_entitled', key: 'error.not_entitled', action: 'contact' };
    if (status === 404) return { code: 'not_found', key: 'error.not_found', action: 'none' };
    if (status === 429) return { code: 'quota_exhausted', key: 'error.quota_exhausted', action: 'wait',
        resetsAt: (body && body.resets_at) || null };
    if (status >= 500) return { code: 'server', key: 'error.server', action: 'retry' };
    return { code: 'unknown', key: 'error.unknown', action: 'retry' };
}
