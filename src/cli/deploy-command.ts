import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { renderRbac } from '../deploy/rbac.js';

/**
 * `labgate deploy rbac [--config FILE]`: prints the ServiceAccounts, Roles and bindings that
 * labgate.yaml calls for (deploy/kubernetes/rbac.yaml is this output for the shipped config).
 */
export async function deployCommand(args: string[], io: { out: (s: string) => void; err: (s: string) => void; usage: string }): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'rbac') {
    io.err(`${sub ? `labgate deploy: unknown subcommand "${sub}"\n` : ''}${io.usage}\n`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } } });
  const file = values.config ?? process.env.LABGATE_CONFIG;
  if (!file) {
    io.err(`labgate deploy rbac: give --config FILE or set LABGATE_CONFIG (the labgate.yaml the grants follow from)\n${io.usage}\n`);
    return 2;
  }
  // The file alone decides the grants: the environment (tokens, keys) is not needed here.
  const res = loadConfig({}, file);
  if (!res.ok) {
    io.err(`${file}: ${res.problems.length} problem${res.problems.length === 1 ? '' : 's'}\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  const rbac = renderRbac(res.config);
  if (!rbac.ok) {
    io.err(`labgate deploy rbac: ${file}: ${rbac.problem}\n`);
    return 1;
  }
  io.out(rbac.yaml);
  return 0;
}
