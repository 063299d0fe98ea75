import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/**
 * Compares `value` (as pretty JSON) with golden/<name>.json. `UPDATE_GOLDEN=1` rewrites the file:
 * update on purpose, then review the diff.
 */
export function expectGolden(name: string, value: unknown): void {
  const file = join(DIR, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.CI && !existsSync(file)) throw new Error(`golden file ${file} is missing`);
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, text);
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`golden file ${file} did not exist; written now: review it and run again`);
    return;
  }
  expect(text, `rendering differs from ${file}; if intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(readFileSync(file, 'utf8'));
}
