import { homedir } from 'node:os';
import type { z } from 'zod';
import { optionMeta } from '../../core/command-options.js';

/**
 * File options typed in the shell (`csr:~/x.csr`) read as a shell would: `~` and `~/…` are the
 * home folder of whoever runs the shell. Other options are left exactly as typed.
 */
export function expandHome(options: Record<string, string>, shape: Record<string, z.ZodType> | undefined, home = homedir()): Record<string, string> {
  if (!shape) return options;
  const out = { ...options };
  for (const [k, v] of Object.entries(options)) {
    if (!shape[k] || optionMeta(shape[k])?.meta.type !== 'attachment') continue;
    if (v === '~') out[k] = home;
    else if (v.startsWith('~/')) out[k] = `${home}${v.slice(1)}`;
  }
  return out;
}
