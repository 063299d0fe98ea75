/**
 * The stack machine behind `print`'s `?` query words, evaluated per item:
 * `?name` / `?-name` (has / lacks), `?name=x` or `?=name=x` (equal), `?<name=x`, `?>name=x`,
 * and `?#ops` with `!` `&` `|` `.` and digit indexes. What is left on the stack is ANDed.
 */

export type Item = Readonly<Record<string, string>>;
type Test = (item: Item) => boolean;
type Step = { kind: 'push'; test: Test } | { kind: 'ops'; ops: string };

export class QueryError extends Error {}

const BOOLEAN_WORDS: Record<string, string> = { yes: 'true', true: 'true', no: 'false', false: 'false' };

/** RouterOS compares typed values: `?disabled=no` matches a rule printed `disabled=false`. */
function sameValue(actual: string, wanted: string): boolean {
  if (actual === wanted) return true;
  const a = BOOLEAN_WORDS[actual];
  return a !== undefined && a === BOOLEAN_WORDS[wanted];
}

function ipv4ToNumber(value: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! * 256 + parts[1]!) * 256 + parts[2]!) * 256 + parts[3]!;
}

function orderKey(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\*[0-9A-Fa-f]+$/.test(value)) return parseInt(value.slice(1), 16);
  return ipv4ToNumber(value);
}

/** -1, 0 or 1; numbers, `*ids` and IPv4 addresses compare by value, the rest as text. */
function compare(a: string, b: string): number {
  const ka = orderKey(a);
  const kb = orderKey(b);
  if (ka !== undefined && kb !== undefined) return Math.sign(ka - kb);
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseQueryWord(word: string): Step {
  const body = word.slice(1);
  if (body.startsWith('#')) return { kind: 'ops', ops: body.slice(1) };
  if (body.startsWith('-')) {
    const name = body.slice(1).split('=')[0]!;
    return { kind: 'push', test: (item) => !(name in item) };
  }
  if (body.startsWith('<') || body.startsWith('>')) {
    const less = body.startsWith('<');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body.slice(1) : body.slice(1, eq);
    const value = eq < 0 ? '' : body.slice(eq + 1);
    return {
      kind: 'push',
      test: (item) => {
        const actual = item[name];
        if (actual === undefined) return false;
        return less ? compare(actual, value) < 0 : compare(actual, value) > 0;
      },
    };
  }
  // librouteros spells equality `?=name=value`, node-routeros `?name=value`.
  const rest = body.startsWith('=') ? body.slice(1) : body;
  const eq = rest.indexOf('=');
  if (eq < 0) return { kind: 'push', test: (item) => rest in item };
  const name = rest.slice(0, eq);
  const value = rest.slice(eq + 1);
  return { kind: 'push', test: (item) => sameValue(item[name] ?? '', value) };
}

function runOps(ops: string, stack: boolean[]): void {
  const pop = (): boolean => {
    if (stack.length === 0) throw new QueryError('invalid query: stack is empty');
    return stack.pop()!;
  };
  let i = 0;
  while (i < ops.length) {
    const c = ops[i]!;
    if (c >= '0' && c <= '9') {
      let j = i;
      while (j < ops.length && ops[j]! >= '0' && ops[j]! <= '9') j++;
      const index = Number(ops.slice(i, j));
      if (index >= stack.length) throw new QueryError(`invalid query: no stack value at index ${index}`);
      stack.push(stack[index]!);
      // A '.' right after an index only ends the number.
      i = ops[j] === '.' ? j + 1 : j;
      continue;
    }
    switch (c) {
      case '!':
        stack.push(!pop());
        break;
      case '&': {
        const b = pop();
        const a = pop();
        stack.push(a && b);
        break;
      }
      case '|': {
        const b = pop();
        const a = pop();
        stack.push(a || b);
        break;
      }
      case '.': {
        const top = pop();
        stack.push(top, top);
        break;
      }
      default:
        throw new QueryError(`invalid query: unknown operation '${c}'`);
    }
    i++;
  }
}

/** Compiles the query words of one print; throws QueryError for operations the stack cannot run. */
export function compileQuery(words: readonly string[]): (item: Item) => boolean {
  const steps = words.map(parseQueryWord);
  const matches = (item: Item): boolean => {
    const stack: boolean[] = [];
    for (const step of steps) {
      if (step.kind === 'push') stack.push(step.test(item));
      else runOps(step.ops, stack);
    }
    return stack.every(Boolean);
  };
  // Run once on an empty item so a malformed query fails up front, not per item.
  matches({});
  return matches;
}
