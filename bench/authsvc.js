#!/usr/bin/env node
//
// The gate built the common way, for comparison in bench/run only (not
// part of the product): nginx's auth_request asks this HTTP service,
// which verifies the patron token and asks Redis on every request, and
// answers with the pseudonym and a signed vendor assertion in headers
// for auth_request_set.  Node built-ins only: http, crypto, and a raw
// RESP client.
//
//   node bench/authsvc.js PORT REDIS-PORT JWKS ISSUER AUDIENCE
//       PSEUDONYM-KEY VENDOR-KEY-PEM VENDOR-KID
//
// GET /check?vendor=V&medium=M with the patron's Authorization header
// (or digin_token cookie): 200, 401 or 403.  Like the module it checks
// the signature (RS256, ES256, EdDSA), iss, aud, exp and nbf, the
// patron's record and operator block, the token's revocation and the
// library's status and grants, with one Redis round trip.  Unlike the
// module it keeps no cache of verified tokens or entitlement answers
// (only the assertion is reused for half its lifetime, as the module
// does).

'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');

const [port, redisPort, jwksFile, issuer, audience, pseudonymKeyFile,
       vendorKeyFile, vendorKid] = process.argv.slice(2);

if (vendorKid === undefined) {
    process.stderr.write('usage: authsvc.js PORT REDIS-PORT JWKS ISSUER '
                         + 'AUDIENCE PSEUDONYM-KEY VENDOR-KEY VENDOR-KID\n');
    process.exit(2);
}

const keys = new Map();

for (const jwk of JSON.parse(fs.readFileSync(jwksFile, 'utf8')).keys) {
    keys.set(jwk.kid, crypto.createPublicKey({ key: jwk, format: 'jwk' }));
}

const pseudonymKey = fs.readFileSync(pseudonymKeyFile);
const vendorKey = crypto.createPrivateKey(fs.readFileSync(vendorKeyFile));
const ASSERTION_TTL = 60;

const b64 = (buf) => Buffer.from(buf).toString('base64url');

// a minimal pipelined RESP client: replies come back in order

const redis = {
    sock: null,
    queue: [],
    buf: Buffer.alloc(0),

    connect(cb) {
        this.sock = net.connect({ port: redisPort, host: '127.0.0.1' }, cb);
        this.sock.setNoDelay(true);
        this.sock.on('data', (d) => this.data(d));
        this.sock.on('error', (e) => {
            process.stderr.write(`authsvc: redis: ${e.message}\n`);
            process.exit(1);
        });
    },

    command(args, cb) {
        let s = `*${args.length}\r\n`;
        for (const a of args) {
            s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
        }
        this.queue.push(cb);
        this.sock.write(s);
    },

    data(d) {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;

        for (;;) {
            const r = this.parse(0);
            if (r === null) {
                return;
            }
            this.buf = this.buf.subarray(r.end);
            this.queue.shift()(r.value);
        }
    },

    // -> { value, end } or null when the reply is not complete yet
    parse(i) {
        const nl = this.buf.indexOf('\r\n', i);
        if (nl < 0) {
            return null;
        }

        const type = String.fromCharCode(this.buf[i]);
        const line = this.buf.toString('latin1', i + 1, nl);

        switch (type) {
        case '+':
            return { value: line, end: nl + 2 };
        case '-':
            return { value: new Error(line), end: nl + 2 };
        case ':':
            return { value: parseInt(line, 10), end: nl + 2 };
        case '$': {
            const n = parseInt(line, 10);
            if (n < 0) {
                return { value: null, end: nl + 2 };
            }
            if (this.buf.length < nl + 2 + n + 2) {
                return null;
            }
            return { value: this.buf.toString('utf8', nl + 2, nl + 2 + n),
                     end: nl + 2 + n + 2 };
        }
        case '*': {
            const n = parseInt(line, 10);
            const a = [];
            let end = nl + 2;
            for (let k = 0; k < n; k++) {
                const r = this.parse(end);
                if (r === null) {
                    return null;
                }
                a.push(r.value);
                end = r.end;
            }
            return { value: n < 0 ? null : a, end };
        }
        default:
            throw new Error(`RESP: unexpected "${type}"`);
        }
    },
};

// ARGV: "<iss> <sub>", library claim, jti
const LOOKUP = `
local gen = redis.call('GET', 'digin:gen')
if not gen then return {} end
local pre = 'digin:' .. gen .. ':'
local who = ARGV[1]
local p = redis.call('HMGET', pre .. 'pat:' .. who, 'library', 'blocked')
local lib = ARGV[2]
if lib == '' then lib = p[1] or '' end
local l = {}
if lib ~= '' then
  l = redis.call('HMGET', pre .. 'lib:' .. lib, 'status', 'county', 'grants')
end
local revoked = 0
if ARGV[3] ~= '' then
  revoked = redis.call('EXISTS', 'digin:revoked:' .. ARGV[3])
end
return { p[2] or '0', tostring(redis.call('HEXISTS', 'digin:block', who)),
  tostring(revoked), lib, l[1] or '', l[2] or '', l[3] or '' }
`;

let lookupSha;

function tokenOf(req) {
    const h = req.headers.authorization;

    if (h && /^bearer /i.test(h)) {
        return h.slice(7).trim();
    }

    const m = /(?:^|;\s*)digin_token=([^;]*)/.exec(req.headers.cookie || '');
    return m ? m[1] : null;
}

// -> the claims, or null
function verify(token) {
    const parts = token.split('.');
    if (parts.length !== 3) {
        return null;
    }

    let header, claims;
    try {
        header = JSON.parse(Buffer.from(parts[0], 'base64url'));
        claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch (e) {
        return null;
    }

    const key = keys.get(header.kid);
    if (key === undefined) {
        return null;
    }

    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    let ok;

    switch (header.alg) {
    case 'RS256':
        ok = key.asymmetricKeyType === 'rsa'
             && crypto.verify('sha256', input, key, sig);
        break;
    case 'ES256':
        ok = key.asymmetricKeyType === 'ec'
             && crypto.verify('sha256', input,
                              { key, dsaEncoding: 'ieee-p1363' }, sig);
        break;
    case 'EdDSA':
        ok = key.asymmetricKeyType === 'ed25519'
             && crypto.verify(null, input, key, sig);
        break;
    default:
        ok = false;
    }

    const now = Date.now() / 1000;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];

    if (!ok || claims.iss !== issuer || !aud.includes(audience)
        || typeof claims.exp !== 'number' || claims.exp + 30 < now
        || (typeof claims.nbf === 'number' && claims.nbf - 30 > now)
        || typeof claims.sub !== 'string')
    {
        return null;
    }

    return claims;
}

const assertions = new Map();

function assertion(pseudonym, vendor, medium, library, county) {
    const now = Math.floor(Date.now() / 1000);
    const id = `${pseudonym} ${vendor} ${medium} ${library}`;
    const a = assertions.get(id);

    if (a !== undefined && a.until > now) {
        return a.token;
    }

    const header = b64(JSON.stringify({ alg: 'ES256', kid: vendorKid,
                                        typ: 'JWT' }));
    const payload = b64(JSON.stringify({
        iss: 'urn:digin:gateway', aud: vendor, sub: pseudonym, iat: now,
        exp: now + ASSERTION_TTL, jti: b64(crypto.randomBytes(16)),
        library, county, medium,
    }));
    const input = `${header}.${payload}`;
    const sig = crypto.sign('sha256', Buffer.from(input),
                            { key: vendorKey, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64(sig)}`;

    assertions.set(id, { token, until: now + ASSERTION_TTL / 2 });

    return token;
}

function answer(res, status, headers) {
    res.writeHead(status, Object.assign({ 'Content-Length': '0' }, headers));
    res.end();
}

function check(req, res) {
    const url = new URL(req.url, 'http://authsvc');
    const vendor = url.searchParams.get('vendor') || '';
    const medium = url.searchParams.get('medium') || '';
    const token = tokenOf(req);
    const claims = token ? verify(token) : null;

    if (claims === null) {
        answer(res, 401);
        return;
    }

    const who = `${claims.iss} ${claims.sub}`;

    redis.command(['EVALSHA', lookupSha, '0', who,
                   claims.library || '', claims.jti || ''], (r) => {
        if (!Array.isArray(r) || r.length !== 7) {
            answer(res, 503);
            return;
        }

        const [blocked, opBlocked, revoked, lib, status, county, grants] = r;

        if (blocked === '1' || opBlocked === '1' || revoked === '1'
            || lib === '' || status === 'suspended'
            || !grants.split(' ').includes(`${vendor}/${medium}`))
        {
            answer(res, 403);
            return;
        }

        const pseudonym = crypto.createHmac('sha256', pseudonymKey)
            .update(`${claims.iss}\0${claims.sub}\0${vendor}\0`)
            .digest('base64url');

        answer(res, 200, {
            'X-Digin-Pseudonym': pseudonym,
            'X-Digin-Vendor-Token':
                assertion(pseudonym, vendor, medium, lib, county),
        });
    });
}

redis.connect(() => {
    redis.command(['SCRIPT', 'LOAD', LOOKUP], (sha) => {
        if (sha instanceof Error) {
            process.stderr.write(`authsvc: ${sha.message}\n`);
            process.exit(1);
        }

        lookupSha = sha;

        const server = http.createServer(check);
        server.keepAliveTimeout = 60000;
        server.listen(parseInt(port, 10), '127.0.0.1');
    });
});
