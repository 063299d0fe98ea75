import { CrdSchemas } from '../crd-schemas.js';
import { SchemaRegistry } from './schema-registry.js';

let shared: SchemaRegistry | undefined;

/** One registry over the bundled CRDs, built on first use (seeds and tests that hold no server). */
export function defaultSchemaRegistry(): SchemaRegistry {
  return (shared ??= new SchemaRegistry(new CrdSchemas()));
}
