import { z } from 'zod';
import { HOSTNAME_RE, DNS_LABEL_RE, DNS1035_LABEL_RE } from '../config/validators.js';
import { ACCESS_MODES } from '../traefik/access-modes.js';
import type { AutocompleteSource } from './command.js';

/** What a chat needs to offer an option: its description, wire type, choices and autocomplete. */
export interface OptionMeta {
  description: string;
  type: 'string' | 'integer' | 'boolean' | 'user' | 'attachment';
  choices?: readonly string[];
  autocomplete?: AutocompleteSource;
  /** What the value may be, for error messages ("a hostname like photos or photos.home.example.com"). */
  allowed: string;
}

export const optionRegistry = z.registry<OptionMeta>();

export function option<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  optionRegistry.add(schema, meta);
  return schema;
}

/** The option's metadata, looking through .optional()/.default() wrappers. */
export function optionMeta(schema: z.ZodType): { meta: OptionMeta; required: boolean } | undefined {
  let s: z.ZodType = schema;
  let required = true;
  for (let i = 0; i < 5; i++) {
    const meta = optionRegistry.get(s);
    if (meta) return { meta, required };
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.type === 'optional' || def.type === 'default') required = false;
    const inner = def.innerType ?? def.in;
    if (!inner) return undefined;
    s = inner;
  }
  return undefined;
}

const trimmedString = (re: RegExp, message: string) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.string({ error: message }).regex(re, { error: message }));

/** A host; `managed` offers the hosts labgate serves (for /route and /unexpose, not for a new /expose). */
export const hostOption = (description = 'Hostname; a name without a dot gets the configured domain', opts: { managed?: boolean } = { managed: true }) => {
  const allowed = 'a hostname like photos or photos.home.example.com (letters, digits, - and dots)';
  return option(trimmedString(HOSTNAME_RE, `must be ${allowed}`), {
    description,
    type: 'string',
    allowed,
    ...(opts.managed ? { autocomplete: 'managed-hosts' as const } : {}),
  });
};

export const namespaceOption = () => {
  const allowed = 'a Kubernetes namespace name (lowercase letters, digits and -, up to 63 characters)';
  return option(trimmedString(DNS_LABEL_RE, `must be ${allowed}`), { description: 'Kubernetes namespace of the Service', type: 'string', allowed, autocomplete: 'namespaces' });
};

export const serviceOption = () => {
  const allowed = 'a Kubernetes Service name (lowercase letters, digits and -, starting with a letter)';
  return option(trimmedString(DNS1035_LABEL_RE, `must be ${allowed}`), { description: 'Kubernetes Service to publish', type: 'string', allowed, autocomplete: 'services' });
};

export const portOption = () => {
  const allowed = 'a whole number from 1 to 65535';
  const message = `must be ${allowed}`;
  return option(
    z.preprocess(
      (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
      z.number({ error: message }).int({ error: message }).min(1, { error: message }).max(65535, { error: message }),
    ),
    { description: 'Service port', type: 'integer', allowed, autocomplete: 'service-ports' },
  );
};

export const modeOption = (description = 'Access mode') => {
  const allowed = `one of ${ACCESS_MODES.join(', ')}`;
  return option(
    z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(ACCESS_MODES, { error: `must be ${allowed}` })),
    { description, type: 'string', choices: ACCESS_MODES, allowed },
  );
};

export const countOption = (max: number, description: string) => {
  const allowed = `a whole number from 1 to ${max}`;
  const message = `must be ${allowed}`;
  return option(
    z.preprocess(
      (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
      z.number({ error: message }).int({ error: message }).min(1, { error: message }).max(max, { error: message }),
    ),
    { description, type: 'integer', allowed },
  );
};
