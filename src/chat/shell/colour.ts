import type { Writable } from 'node:stream';

/**
 * Whether to colour what goes to `stream`, the way https://no-color.org and FORCE_COLOR ask:
 * FORCE_COLOR (anything but 0/false) colours even a pipe and FORCE_COLOR=0 turns colour off;
 * on a terminal, Node's hasColors() decides, which says no for NO_COLOR, NODE_DISABLE_COLORS
 * and TERM=dumb. A pipe or a file gets no colour unless forced.
 */
export function useColour(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  const tty = stream as Writable & { isTTY?: boolean; hasColors?: (count?: number, env?: object) => boolean };
  if (!tty.isTTY || typeof tty.hasColors !== 'function') return false;
  return tty.hasColors(8, env);
}

/** The terminal's width in columns, when the stream is a terminal. */
export function terminalWidth(stream: Writable): number | undefined {
  const tty = stream as Writable & { isTTY?: boolean; columns?: number };
  return tty.isTTY && tty.columns && tty.columns > 0 ? tty.columns : undefined;
}
