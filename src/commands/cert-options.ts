import { z } from 'zod';
import { option } from '../core/command-options.js';
import { parseDuration } from '../duration.js';
import { DEVICE_NAME_ALLOWED, DEVICE_NAME_RE } from '../openbao/device-identity.js';

/** The options the /cert commands share; each carries its chat metadata like the core options do. */

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

export const deviceOption = (description = 'Device name, e.g. pixel-8') => {
  const message = `must be ${DEVICE_NAME_ALLOWED}`;
  return option(z.preprocess(lower, z.string({ error: message }).regex(DEVICE_NAME_RE, { error: message })), {
    description,
    type: 'string',
    allowed: DEVICE_NAME_ALLOWED,
  });
};

export const PROFILES = ['android-legacy', 'modern'] as const;

export const profileOption = () => {
  const allowed = `one of ${PROFILES.join(', ')} (android-legacy for Android 13 and older and older iPhones; modern for Android 14+ and current iOS)`;
  return option(z.preprocess(lower, z.enum(PROFILES, { error: `must be ${allowed}` })), {
    description: 'Bundle format your device imports: android-legacy (older phones) or modern',
    type: 'string',
    choices: PROFILES,
    allowed,
  });
};

/** A lifetime like 90d or 8760h, as milliseconds. */
export const ttlOption = () => {
  const allowed = 'a lifetime like 30d, 90d or 8760h';
  const message = `must be ${allowed}`;
  return option(
    z.preprocess(
      (v) => (typeof v === 'string' ? (parseDuration(v.trim()) ?? v) : v),
      z.number({ error: message }).int({ error: message }).min(3_600_000, { error: `${message}, at least 1h` }),
    ),
    { description: 'How long the certificate is valid (default from labgate.yaml)', type: 'string', allowed },
  );
};

/** Whose device: a Discord user (mention or id) or a shell user name. */
export const ownerOption = (description: string) => {
  const allowed = 'a user: @someone on Discord, a shell user name in the shell';
  return option(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().replace(/^<@!?(\d+)>$/, '$1').replace(/^@/, '') : v),
      z.string({ error: `must be ${allowed}` }).regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, { error: `must be ${allowed}` }),
    ),
    { description, type: 'user', allowed },
  );
};

export const flagOption = (description: string) => {
  const allowed = 'true or false';
  return option(
    z.preprocess((v) => (v === 'true' || v === 'yes' ? true : v === 'false' || v === 'no' ? false : v), z.boolean({ error: `must be ${allowed}` })),
    { description, type: 'boolean', allowed },
  );
};

export const serialOption = () => {
  const allowed = 'a certificate serial like 39:dd:2e:… (as /cert list shows it)';
  return option(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/-/g, ':') : v),
      z.string({ error: `must be ${allowed}` }).regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){0,31}$/, { error: `must be ${allowed}` }),
    ),
    { description: 'Certificate serial number', type: 'string', allowed },
  );
};

export const csrOption = () => {
  const allowed = 'a certificate signing request (PEM): an attachment on Discord, a file path in the shell';
  return option(z.string({ error: `must be ${allowed}` }).trim().min(1, { error: `must be ${allowed}` }).max(2000, { error: `must be ${allowed}` }), {
    description: 'Certificate signing request made on the device (PEM file)',
    type: 'attachment',
    allowed,
  });
};
