import { randomBytes } from 'node:crypto';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Fields that may hold a secret anywhere in a log object; pino replaces their values. */
export const REDACTED_PATHS = [
  'token', '*.token', 'password', '*.password', 'passphrase', '*.passphrase',
  'privateKey', '*.privateKey', 'private_key', '*.private_key', 'secret_id', '*.secret_id',
  'secretId', '*.secretId', 'client_token', '*.client_token', 'bundle', '*.bundle',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'headers["x-vault-token"]', '*.headers["x-vault-token"]', 'jwt', '*.jwt',
];

export interface LogOptions {
  level?: string;
  /** Where log lines go; default stderr. Tests pass a stream to scan what was logged. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'labgate',
      level: opts.level ?? process.env.LABGATE_LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A short reference a person can quote; the log line with the cause carries the same ref. */
export function faultRef(): string {
  return 'ref-' + randomBytes(4).toString('hex');
}
