import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { withSandboxGate } from './sandbox-gate.js';

/**
 * `labgate sandbox`: the simulated homelab on loopback until stopped (its gate and edge too), with
 * the env file other terminals load; `--rbac` gives bot and worker their own tokens, `--faults`
 * serves the fault control.
 */
export async function sandboxCommand(args: string[], d: { makeLogger: (kind: 'chat' | 'service') => Logger; waitForSignal: () => Promise<void> }): Promise<number> {
  // Node 20 takes --env-file as its own flag even after the script name (nodejs/node#54232) and
  // dies before labgate runs when the file does not exist yet: hence --write-env.
  if (args.some((a) => a === '--env-file' || a.startsWith('--env-file=')))
    throw Object.assign(new Error("'--env-file' is now '--write-env' (Node reads --env-file itself)"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  const { values } = parseArgs({ args, options: { state: { type: 'string' }, 'write-env': { type: 'string' }, 'router-tls': { type: 'boolean' }, faults: { type: 'string' }, rbac: { type: 'boolean' } } });
  const stateFile = values.state ?? '.labgate/sandbox/state.json';
  const envFile = values['write-env'] ?? resolve(dirname(stateFile), 'sandbox.env');
  const routerTls = values['router-tls'] ?? false;
  const faultPort = values.faults === undefined ? undefined : Number(values.faults);
  if (faultPort !== undefined && !(Number.isInteger(faultPort) && faultPort >= 0 && faultPort <= 65535))
    throw Object.assign(new Error(`--faults: a port number from 0 to 65535 (got ${JSON.stringify(values.faults)})`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  const { startSandbox } = await import('../../sandbox/sandbox.js');
  const sb = await startSandbox({ stateFile, envFile, routerTls, rbac: values.rbac ?? false });
  const rbac = sb.accounts ? `  RBAC            deploy/kubernetes/rbac.yaml enforced; bot: ${sb.accounts.bot.envFile}, worker: ${sb.accounts.worker.envFile}\n` : '';
  const control = faultPort === undefined ? undefined : await (await import('../../sandbox/fault-control.js')).startFaultControl(sb.faults, faultPort);
  const sbConfig = loadConfig({ ...process.env, ...sb.env });
  const gateUrl = sbConfig.ok ? await withSandboxGate(sbConfig.config, sb, d.makeLogger('chat')) : undefined;
  const router = routerTls ? `  RouterOS api-ssl ${sb.router.host}:${sb.router.tlsPort} (CA ${sb.env.ROUTEROS_CA})\n` : '';
  const faults = control ? `  fault control   ${control.url}/faults  (curl it for how)\n` : '';
  process.stdout.write(
    `labgate sandbox running (Ctrl-C to stop)\n  Kubernetes API  ${sb.kubernetes.url}\n  edge websecure  ${sb.edge.urls.websecure} (ts-secure ${sb.edge.urls['ts-secure']}; CA ${sb.env.LABGATE_SANDBOX_EDGE_CA})\n${gateUrl ? `  mTLS gate       ${gateUrl}\n` : ''}${router}${faults}${rbac}  state           ${sb.files.stateFile}\n  env file        ${sb.files.envFile}\n\n${
      sb.accounts
        ? `In two more terminals, each with only its own token and secrets:\n  set -a; . ${sb.accounts.worker.envFile}; set +a; npx labgate worker\n  set -a; . ${sb.accounts.bot.envFile}; set +a; npx labgate bot\n`
        : `In another terminal:\n  set -a; . ${sb.files.envFile}; set +a; npx labgate shell\n`
    }`,
  );
  await d.waitForSignal();
  await control?.close();
  await sb.close();
  return 0;
}
