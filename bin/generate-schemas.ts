/**
 * `npm run schemas`: rewrites the committed JSON Schemas from the zod schemas (the one contract
 * source, src/core/events/schemas.ts). `npm run schemas -- --check` only reports the files that
 * differ and exits 1 when any does (what test/events/generated-schemas.test.ts asserts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedSchemaFiles } from '../src/events/json-schemas.js';

const root = new URL('../', import.meta.url);
const check = process.argv.includes('--check');
let stale = 0;
for (const { path, text } of generatedSchemaFiles()) {
  const file = new URL(path, root);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  stale += 1;
  if (check) {
    console.error(`${path}: differs from the zod schemas (run npm run schemas)`);
  } else {
    writeFileSync(file, text);
    console.log(`${path}: written`);
  }
}
if (check && stale > 0) process.exit(1);
if (!check && stale === 0) console.log('JSON Schemas up to date');
