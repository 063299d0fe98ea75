/**
 * Sets of field paths as server-side apply keeps them (structured-merge-diff's fieldpath.Set):
 * each path is a list of elements in the FieldsV1 spelling — `f:<field>`, `k:<json of the
 * key fields>` for an item of an associative list, `v:<json>` for an item of a set — and
 * FieldsV1 is the trie of those paths, `.` marking a node that is itself a member.
 */
import type { FieldsV1 } from './kubernetes-state.js';

export type PathElement = string;
export type FieldPath = PathElement[];

export const pathKey = (p: FieldPath): string => JSON.stringify(p);

/** Paths by their key; insertion order kept. */
export class FieldSet {
  readonly paths = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const p of paths) this.add(p);
  }

  add(p: FieldPath): void {
    this.paths.set(pathKey(p), p);
  }

  has(p: FieldPath): boolean {
    return this.paths.has(pathKey(p));
  }

  get size(): number {
    return this.paths.size;
  }

  values(): FieldPath[] {
    return [...this.paths.values()];
  }

  union(o: FieldSet): FieldSet {
    return new FieldSet([...this.values(), ...o.values()]);
  }

  difference(o: FieldSet): FieldSet {
    return new FieldSet(this.values().filter((p) => !o.has(p)));
  }

  intersection(o: FieldSet): FieldSet {
    return new FieldSet(this.values().filter((p) => o.has(p)));
  }

  equals(o: FieldSet): boolean {
    return this.size === o.size && this.values().every((p) => o.has(p));
  }

  /** Whether `p` or any path below it is in the set. */
  hasOrBelow(p: FieldPath): boolean {
    const prefix = pathKey(p).slice(0, -1);
    for (const k of this.paths.keys()) if (k === pathKey(p) || k.startsWith(`${prefix},`)) return true;
    return false;
  }

  toFieldsV1(): FieldsV1 {
    const root: FieldsV1 = {};
    const members: FieldsV1[] = [];
    for (const p of this.values()) {
      let cur = root;
      for (const el of p) cur = cur[el] ??= {};
      members.push(cur);
    }
    // A member that also has members below it says so with ".".
    for (const node of members) if (Object.keys(node).some((k) => k !== '.')) node['.'] = {};
    return sortTrie(root);
  }

  static fromFieldsV1(f: FieldsV1 | undefined): FieldSet {
    const set = new FieldSet();
    const walk = (node: FieldsV1, prefix: FieldPath) => {
      for (const [k, child] of Object.entries(node)) {
        if (k === '.') continue;
        const p = [...prefix, k];
        const keys = Object.keys(child);
        if (keys.length === 0 || keys.includes('.')) set.add(p);
        walk(child, p);
      }
    };
    walk(f ?? {}, []);
    return set;
  }
}

/** Keys in Go's order for a FieldsV1 trie: "." first, then sorted, as the apiserver serializes it. */
function sortTrie(node: FieldsV1): FieldsV1 {
  const out: FieldsV1 = {};
  for (const k of Object.keys(node).sort((a, b) => (a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0))) out[k] = sortTrie(node[k]!);
  return out;
}

/** `.spec.routes`, `.spec.containers[name="tailscale"].image`, `.metadata.finalizers[="x"]`: how the API prints a path. */
export function formatPath(p: FieldPath): string {
  return p
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      if (el.startsWith('k:')) {
        const fields = JSON.parse(el.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      if (el.startsWith('i:')) return `[${el.slice(2)}]`;
      return el;
    })
    .join('');
}
