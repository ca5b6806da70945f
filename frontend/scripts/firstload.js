// What the browser loads for the first view: index.html, the stylesheet,
// the static import graph of src/main.js and of the home view (other
// dynamic import() calls are not followed: other views and languages,
// MiniSearch and foliate-js load when they are needed).  Used by the build's size report and by
// test/size.test.js.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'"();]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

export function staticGraph(entry) {
    const seen = new Set();
    const walk = file => {
        if (seen.has(file)) return;
        seen.add(file);
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(STATIC_IMPORT)) {
            if (!m[1].startsWith('.')) throw new Error(`${file}: bare import "${m[1]}" needs an import map`);
            walk(path.resolve(path.dirname(file), m[1]));
        }
    };
    walk(path.resolve(entry));
    return [...seen];
}

export function firstLoad(root) {
    const files = [path.join(root, 'index.html'), path.join(root, 'css', 'app.css'),
        ...new Set([...staticGraph(path.join(root, 'src', 'main.js')),
            ...staticGraph(path.join(root, 'src', 'views', 'home.js'))])];
    const rows = files.map(f => {
        const data = fs.readFileSync(f);
        return { file: path.relative(root, f), bytes: data.length, gzip: zlib.gzipSync(data, { level: 9 }).length };
    });
    return { rows, gzip: rows.reduce((s, r) => s + r.gzip, 0), bytes: rows.reduce((s, r) => s + r.bytes, 0) };
}

export const BUDGET_GZIP = 150 * 1024;
