// The real stack for the browser tests and the front-end benchmark:
// "make demo PORT=<free>" (redis-server, the two vendor mocks and the
// gateway with ngx_http_digin_module and the front end), started in a
// process group of its own and stopped as a newcomer stops it, with
// Ctrl-C (SIGINT to the group).
//
// Each stack keeps its state (keys, configurations, logs, Redis) in a
// private build directory (DIGIN_BUILD, which tools/demo/run honours)
// whose module, tools, content and served tree are links to the
// repository's build/, so that it never shares build/demo/ with a demo
// somebody else is running.  `www` replaces the served tree (another
// catalog, for instance).
//
// DIGIN_E2E_NO_MAKE=1 runs tools/demo/run (the last step of make demo)
// instead of make demo, on the build as it is: for a machine where make
// must not rebuild (somebody is changing the module meanwhile).

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BUILD = path.join(REPO, 'build');

function portFree(port) {
    return new Promise(resolve => {
        const server = net.createServer();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
}

function ephemeralPort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

// Four free ports in a row: the gateway, two vendors, Redis.
export async function freePorts(count = 4) {
    for (let i = 0; i < 100; i++) {
        const base = await ephemeralPort();
        if (base + count > 65535) continue;
        let ok = true;
        for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
        if (ok) return base;
    }
    throw new Error('no four free ports in a row on 127.0.0.1');
}

function groupAlive(pgid) {
    try {
        process.kill(-pgid, 0);
        return true;
    } catch (e) {
        return e.code === 'EPERM';
    }
}

// Processes still in the group, for a failure message.
function groupMembers(pgid) {
    const out = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
            const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
            const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
            out.push(`${entry} ${args}`);
        } catch { /* gone meanwhile */ }
    }
    return out;
}

export async function waitFor(check, { timeout = 10000, interval = 50, what = 'a condition' } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
        const v = await check();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await new Promise(r => setTimeout(r, interval));
    }
}

// Stacks still running when this process ends (an interrupted run) get
// their Ctrl-C too: they run in process groups of their own, which a
// terminal's Ctrl-C does not reach.
const running = new Map();              // process group → private build

function interruptAll() {
    for (const [pgid, dir] of running) {
        try { process.kill(-pgid, 'SIGINT'); } catch { /* gone */ }
        fs.rmSync(dir, { recursive: true, force: true });
    }
    running.clear();
}

let handlersInstalled = false;

function installHandlers() {
    if (handlersInstalled) return;
    handlersInstalled = true;
    process.once('exit', interruptAll);
    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, () => {
            interruptAll();
            process.exit(130);
        });
    }
}

function privateBuild(www) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digin-e2e-'));
    fs.chmodSync(dir, 0o755);               // nginx's workers read it
    for (const name of ['ngx_http_digin_module.so', 'digin-token', 'digin-admin', 'content']) {
        fs.symlinkSync(path.join(BUILD, name), path.join(dir, name));
    }
    fs.symlinkSync(www ? path.resolve(www) : path.join(BUILD, 'www'), path.join(dir, 'www'));
    return dir;
}

// → { url, port, dir, output(), patrons(), stop() }
export async function startStack({ www = null, timeout = 600000, log = null } = {}) {
    const port = await freePorts(4);
    const dir = privateBuild(www);
    let output = '';
    // DIGIN_E2E_NO_MAKE=1: tools/demo/run (what make demo runs last) on
    // the build as it is, for when make must not rebuild it
    const [command, ...args] = process.env.DIGIN_E2E_NO_MAKE
        ? [path.join(REPO, 'tools', 'demo', 'run')]
        : ['make', '--no-print-directory', 'demo', `PORT=${port}`];
    const child = spawn(command, args, {
        cwd: REPO,
        detached: true,                     // a process group of its own
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DIGIN_BUILD: dir, PORT: String(port) },
    });
    installHandlers();
    running.set(child.pid, dir);
    const logStream = log ? fs.createWriteStream(log) : null;
    const collect = chunk => {
        output += chunk;
        logStream?.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let exited = null;
    const exit = new Promise(resolve => child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve(exited);
    }));

    const stack = {
        port,
        dir,
        pgid: child.pid,
        output: () => output,
        url: null,
        async patrons() {
            const res = await fetch(`${stack.url}demo/patrons.json`);
            return res.json();
        },
        // Ctrl-C: SIGINT to the whole group, as a terminal sends it.
        // Resolves with what was left (nothing, when all went well).
        async stop({ timeout: limit = 30000 } = {}) {
            if (groupAlive(child.pid)) {
                try { process.kill(-child.pid, 'SIGINT'); } catch { /* already gone */ }
            }
            await exit;
            running.delete(child.pid);
            let left = [];
            try {
                await waitFor(() => !groupAlive(child.pid), { timeout: limit, what: 'the demo to stop' });
            } catch {
                left = groupMembers(child.pid);
                try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
            }
            const busy = [];
            for (let p = port; p < port + 4; p++) if (!(await portFree(p))) busy.push(p);
            logStream?.end();
            return { exit: exited, left, busy, said: output };
        },
        cleanup() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };

    try {
        const url = await waitFor(() => {
            const m = /Digin demo is running at (\S+)/.exec(output);
            if (m) return m[1];
            if (exited) throw new Error(`make demo ended (${JSON.stringify(exited)}):\n${output.slice(-4000)}`);
            return null;
        }, { timeout, interval: 100, what: 'make demo to say it is running' });
        stack.url = url.endsWith('/') ? url : `${url}/`;
    } catch (e) {
        await stack.stop();
        stack.cleanup();
        throw e;
    }
    return stack;
}
