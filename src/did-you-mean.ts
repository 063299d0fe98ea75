import { distance } from 'fastest-levenshtein';

/**
 * The known name closest to a mistyped one, when it is close enough to be what was meant:
 * at most a third of its length in edits (a swapped pair of letters counts two), at least one.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(t, name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  if (!best || best.d === 0) return best?.name;
  return best.d <= Math.max(1, Math.floor(Math.max(t.length, best.name.length) / 3)) ? best.name : undefined;
}

/** "did you mean X?" or nothing. */
export function didYouMean(typed: string, known: readonly string[], show: (name: string) => string = (n) => n): string {
  const c = closest(typed, known);
  return c ? `did you mean ${show(c)}?` : '';
}
