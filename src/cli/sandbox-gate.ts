import { PlatformNotifier } from '../messages/notifier.js';
import { ShellRelay, ShellRelayNotifier } from '../chat/shell/shell-relay.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { createRedis, redisKeys } from '../stores/redis.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { startConfiguredGate } from '../gate/run-gate.js';

/**
 * The gate of the sandbox homelab, in the sandbox's process: on a free loopback port, with the
 * sandbox edge sending the routes' forwardAuth (gate.address) to it. Its alerts reach every
 * shell through the Redis relay, as a worker's do.
 */
export async function startSandboxGate(config: Config, sandbox: Sandbox, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const relayRedis = createRedis(config.env, 'blocking');
  relayRedis.on('error', () => {});
  const notifier = new PlatformNotifier({ shell: new ShellRelayNotifier(new ShellRelay(relayRedis, redisKeys(config.redis.prefix).shellOutbox, config.shell.dmFolder)) });
  const gate = await startConfiguredGate(config, { listen: { host: '127.0.0.1', port: 0 }, notifier, logger });
  sandbox.edge.setUpstream(new URL(config.gate.address).host, gate.url);
  return {
    url: gate.url,
    close: async () => {
      await gate.closeAll();
      relayRedis.disconnect();
    },
  };
}

/** Runs the sandbox's gate in this process; it closes with the sandbox. */
export async function withSandboxGate(config: Config, sandbox: Sandbox, logger: Logger): Promise<string | undefined> {
  // Without its gate the sandbox still works; only mtls-strict routes then answer 502 at the edge.
  const gate = await startSandboxGate(config, sandbox, logger).catch((err: Error) => {
    logger.warn({ err: err.message }, 'the sandbox gate did not start');
    return undefined;
  });
  if (!gate) return undefined;
  const close = sandbox.close.bind(sandbox);
  sandbox.close = async () => {
    await gate.close();
    await close();
  };
  return gate.url;
}
