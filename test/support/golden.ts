import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

/**
 * Compares text with a golden file. `UPDATE_GOLDEN=1 npm test` rewrites the files on purpose;
 * review the diff before committing. A missing golden file fails the test (never silently created).
 */
export function expectGolden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing; run UPDATE_GOLDEN=1 to create it, then review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
