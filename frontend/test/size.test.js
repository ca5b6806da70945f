import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLoad, staticGraph, BUDGET_GZIP } from '../scripts/firstload.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the first load stays within 150 KB gzip', () => {
    const size = firstLoad(ROOT);
    assert.ok(size.gzip <= BUDGET_GZIP, `${size.gzip} bytes gzip`);
});

test('the EPUB renderer and the search library are not in the first load', () => {
    const files = [...staticGraph(path.join(ROOT, 'src', 'main.js')),
        ...staticGraph(path.join(ROOT, 'src', 'views', 'home.js'))].map(f => path.relative(ROOT, f));
    assert.ok(!files.some(f => /foliate|minisearch|views\/reader|views\/player|merge\.js/.test(f)), files.join(' '));
});
