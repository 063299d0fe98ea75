import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Where the shell chat keeps the lines typed at its prompt, across restarts (mode 0600). */
export const HISTORY_FILE = '.labgate/shell-history';
export const HISTORY_SIZE = 1000;

/** The saved lines, newest first (as readline wants them); none when the file is missing or unreadable. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/**
 * Writes readline's history (newest first) oldest-first, one line each, readable by its owner
 * only: a typed line can name hosts and people. Never throws: history is a convenience.
 */
export function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    const path = resolve(file);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, [...newestFirst].slice(0, HISTORY_SIZE).reverse().join('\n') + '\n', { mode: 0o600 });
    // writeFileSync keeps an existing file's mode: make sure it is private even if it was not.
    chmodSync(path, 0o600);
  } catch {
    // A read-only folder costs the history, not the session.
  }
}
