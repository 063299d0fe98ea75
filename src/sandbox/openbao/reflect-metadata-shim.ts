/**
 * The few `Reflect` metadata functions tsyringe (a dependency of @peculiar/x509 2.x) checks
 * for at load time. The `reflect-metadata` package is not installed; @peculiar/x509's own
 * classes take no constructor parameters, so an in-memory store is all tsyringe needs.
 * Installs nothing when a real polyfill is already present.
 */
type MetadataStore = WeakMap<object, Map<unknown, unknown>>;

interface ReflectWithMetadata {
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  getMetadata?: (key: unknown, target: object) => unknown;
}

const reflect = Reflect as unknown as ReflectWithMetadata;

if (!reflect.getMetadata) {
  const store: MetadataStore = new WeakMap();
  const own = (target: object, key: unknown) => store.get(target)?.get(key);
  reflect.defineMetadata = (key, value, target) => {
    let entries = store.get(target);
    if (!entries) store.set(target, (entries = new Map()));
    entries.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => own(target, key);
  reflect.getMetadata = (key, target) => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const value = own(o, key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

export {};
