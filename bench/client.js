#!/usr/bin/env node
//
// Small HTTP clients for bench/run (node built-ins only).
//
//   node bench/client.js stampede PORT PATH TOKEN N [WARMPATH]
//       opens N connections, waits until every one is connected (with
//       WARMPATH: until each has had an answer to a first request for
//       WARMPATH, so that nginx holds N idle keep-alive connections),
//       then writes one request on each in the same turn of the event
//       loop: N requests in flight together.  Prints "<ms>
//       <status>:<count> ..." when all have answered.
//
//   node bench/client.js send PORT PATH TOKENFILE CONNECTIONS [cookie]
//       sends each token of TOKENFILE once, in order, over CONNECTIONS
//       keep-alive connections, as Authorization (and with "cookie" also
//       as the digin_token cookie).  Prints "<status>:<count> ...".

'use strict';

const http = require('http');
const net = require('net');
const fs = require('fs');

function summary(statuses) {
    return Object.keys(statuses).sort()
        .map((s) => `${s}:${statuses[s]}`).join(' ');
}

function stampede(port, path, token, n, warm) {
    const socks = [];
    const statuses = {};
    let ready = 0;
    let done = 0;
    let start;

    const req = `GET ${path} HTTP/1.1\r\nHost: bench\r\n`
        + `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;

    const timer = setTimeout(() => {
        process.stderr.write(`stampede: ${done} of ${n} answered\n`);
        process.exit(1);
    }, 30000);

    function fire() {
        start = process.hrtime.bigint();
        for (const s of socks) {
            s.data = '';
            s.fired = true;
            s.write(req);
        }
    }

    function isReady() {
        if (++ready === n) {
            fire();
        }
    }

    for (let i = 0; i < n; i++) {
        const s = net.connect({ port, host: '127.0.0.1' });

        s.data = '';
        s.fired = false;
        s.setNoDelay(true);
        s.on('connect', () => {
            if (warm) {
                s.write(`GET ${warm} HTTP/1.1\r\nHost: bench\r\n\r\n`);
            } else {
                isReady();
            }
        });
        s.on('data', (d) => {
            s.data += d.toString('latin1');

            // the warm-up answer, read whole: the connection is now idle
            // and kept alive in nginx
            if (!s.fired) {
                const end = s.data.indexOf('\r\n\r\n');
                const m = /content-length: *(\d+)/i.exec(s.data);
                if (end >= 0 && m
                    && s.data.length >= end + 4 + parseInt(m[1], 10))
                {
                    isReady();
                }
            }
        });
        s.on('error', () => {});
        s.on('close', () => {
            const m = s.fired && /^HTTP\/1\.[01] (\d{3})/.exec(s.data);
            const st = m ? m[1] : 'none';
            statuses[st] = (statuses[st] || 0) + 1;

            if (++done === n) {
                clearTimeout(timer);
                const ms = Number(process.hrtime.bigint() - start) / 1e6;
                process.stdout.write(`${ms.toFixed(1)} ${summary(statuses)}\n`);
            }
        });
        socks.push(s);
    }
}

function send(port, path, file, conns, cookie) {
    const tokens = fs.readFileSync(file, 'latin1').split('\n')
        .filter((t) => t.length);
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    const statuses = {};
    let next = 0;
    let done = 0;

    function one() {
        if (next >= tokens.length) {
            return;
        }

        const token = tokens[next++];
        const headers = { Authorization: `Bearer ${token}` };

        if (cookie) {
            headers.Cookie = `theme=dark; digin_token=${token}; lang=nb`;
        }

        const req = http.request({
            host: '127.0.0.1', port, path, agent, headers,
        }, (res) => {
            res.resume();
            res.on('end', () => {
                statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
                if (++done === tokens.length) {
                    agent.destroy();
                    process.stdout.write(`${summary(statuses)}\n`);
                    return;
                }
                one();
            });
        });

        req.on('error', (e) => {
            process.stderr.write(`send: ${e.message}\n`);
            process.exit(1);
        });
        req.end();
    }

    for (let i = 0; i < conns; i++) {
        one();
    }
}

const [mode, port, path, arg, count, extra] = process.argv.slice(2);

if (mode === 'stampede') {
    stampede(parseInt(port, 10), path, arg, parseInt(count, 10), extra);

} else if (mode === 'send') {
    send(parseInt(port, 10), path, arg, parseInt(count, 10),
         extra === 'cookie');

} else {
    process.stderr.write('usage: client.js stampede|send PORT PATH ...\n');
    process.exit(2);
}
