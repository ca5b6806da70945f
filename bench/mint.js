#!/usr/bin/env node
//
// Mints many distinct signed tokens quickly, for bench/run only (node's
// built-in crypto; build/digin-token signs one process-wide key per call
// and always gives --count tokens a jti).
//
//   node bench/mint.js --key PEM --alg RS256|ES256|EdDSA --kid KID
//       --iss ISS --aud AUD --sub SUB [--library LIB] [--ttl SECONDS]
//       --count N [--jti PREFIX]
//
// Each token is told apart by a claim "n" (1..N).  With --jti every
// token also carries the jti PREFIX-n.  A "%d" in --sub is replaced by
// n (one patron per token).  Tokens are printed one a line.

'use strict';

const crypto = require('crypto');
const fs = require('fs');

function usage(msg) {
    process.stderr.write(`bench/mint.js: ${msg}\n`);
    process.exit(2);
}

const opt = { ttl: '86400' };
const argv = process.argv.slice(2);

for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
        usage(`bad argument "${argv[i]}"`);
    }
    opt[argv[i].slice(2)] = argv[i + 1];
}

for (const name of ['key', 'alg', 'kid', 'iss', 'aud', 'sub', 'count']) {
    if (opt[name] === undefined) {
        usage(`--${name} is required`);
    }
}

const key = crypto.createPrivateKey(fs.readFileSync(opt.key));
const b64 = (buf) => Buffer.from(buf).toString('base64url');

let sign;

switch (opt.alg) {
case 'RS256':
    sign = (data) => crypto.sign('sha256', data, key);
    break;
case 'ES256':
    sign = (data) => crypto.sign('sha256', data,
                                 { key, dsaEncoding: 'ieee-p1363' });
    break;
case 'EdDSA':
    sign = (data) => crypto.sign(null, data, key);
    break;
default:
    usage(`unknown --alg "${opt.alg}"`);
}

const header = b64(JSON.stringify({ alg: opt.alg, kid: opt.kid, typ: 'JWT' }));
const now = Math.floor(Date.now() / 1000);
const count = parseInt(opt.count, 10);
const out = [];

for (let n = 1; n <= count; n++) {
    const claims = {
        iss: opt.iss,
        sub: opt.sub.replace('%d', String(n)),
        aud: opt.aud,
    };

    if (opt.library !== undefined) {
        claims.library = opt.library;
    }

    claims.iat = now;
    claims.exp = now + parseInt(opt.ttl, 10);

    if (opt.jti !== undefined) {
        claims.jti = `${opt.jti}-${n}`;
    }

    claims.n = n;

    const input = `${header}.${b64(JSON.stringify(claims))}`;
    out.push(`${input}.${b64(sign(Buffer.from(input)))}`);

    if (out.length === 1000) {
        process.stdout.write(out.join('\n') + '\n');
        out.length = 0;
    }
}

if (out.length) {
    process.stdout.write(out.join('\n') + '\n');
}
