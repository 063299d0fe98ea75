import { parseDurationSeconds } from './durations.js';
import { userError } from './http-envelope.js';

/**
 * Typed reads of request parameters, converting the way OpenBao's framework.FieldData does
 * (strings for bools/ints accepted; comma strings or arrays for slices) and failing with its
 * 400 "error converting input" message.
 */
export type RequestBody = Record<string, unknown>;

const conversionError = (field: string, value: unknown) =>
  userError(`error converting input ${typeof value === 'string' ? value : JSON.stringify(value)} for field "${field}"`);

/** TypeString. */
export function stringField(body: RequestBody, field: string, fallback = ''): string {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw conversionError(field, value);
}

/** TypeBool: booleans or strconv.ParseBool strings. */
export function boolField(body: RequestBody, field: string, fallback = false): boolean {
  const value = body[field];
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const parsed = parseGoBool(String(value));
  if (parsed === undefined) throw conversionError(field, value);
  return parsed;
}

/** TypeInt: numbers or integer strings. */
export function intField(body: RequestBody, field: string, fallback = 0): number {
  const value = body[field];
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw conversionError(field, value);
  return n;
}

/** TypeCommaStringSlice: "a,b" or ["a","b"]; blanks trimmed away. */
export function commaListField(body: RequestBody, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : undefined;
  if (!items) throw conversionError(field, value);
  return items.map((s) => s.trim()).filter(Boolean);
}

/** TypeDurationSecond, in seconds. */
export function durationField(body: RequestBody, field: string): number {
  const seconds = parseDurationSeconds(body[field]);
  if (seconds === undefined) throw conversionError(field, body[field]);
  return seconds;
}

/** strconv.ParseBool. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Storage.ListPage: the sorted keys after `after` (need not exist), at most `limit` (≤ 0: all). */
export function pageOf(keys: readonly string[], body: RequestBody): string[] {
  const sorted = isSorted(keys) ? keys : [...keys].sort();
  const after = stringField(body, 'after');
  const limit = intField(body, 'limit');
  let start = 0;
  if (after) {
    // Binary search: the first key after `after`.
    let hi = sorted.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      if (sorted[mid]! <= after) start = mid + 1;
      else hi = mid;
    }
  }
  return sorted.slice(start, limit > 0 ? start + limit : undefined);
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}
