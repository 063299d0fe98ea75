import { parseArgs } from 'node:util';
import { PlatformNotifier } from '../messages/notifier.js';
import { ShellRelay, ShellRelayNotifier } from '../chat/shell/shell-relay.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { createRedis, redisKeys } from '../stores/redis.js';

/** `labgate gate --listen HOST:PORT`: the forwardAuth service of mtls-strict routes (src/gate). */
export async function gateCommand(args: string[], d: { makeLogger: (kind: 'service') => Logger; waitForSignal: () => Promise<void> }): Promise<number> {
  const { values } = parseArgs({ args, options: { listen: { type: 'string' } } });
  const { parseListen, startConfiguredGate } = await import('../gate/run-gate.js');
  const listen = parseListen(values.listen ?? '0.0.0.0:8080');
  if (typeof listen === 'string') throw Object.assign(new Error(listen), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  if (!process.env.LABGATE_CONFIG) {
    process.stderr.write('labgate gate: needs LABGATE_CONFIG (labgate.yaml) and BAO_ADDR; the sandbox runs its own gate (labgate sandbox)\n');
    return 2;
  }
  // The gate holds no secret: no signing key, no OpenBao token (the CRL is public).
  const res = loadConfig(process.env);
  if (!res.ok) {
    process.stderr.write(`labgate gate: configuration problems:\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }
  const config = res.config;
  const logger = d.makeLogger('service');
  const relayRedis = createRedis(config.env, 'blocking');
  relayRedis.on('error', () => {});
  const discord = config.env.DISCORD_TOKEN ? (await import('../chat/discord/run-discord.js')).discordNotifier(config, logger) : undefined;
  const notifier = new PlatformNotifier({ shell: new ShellRelayNotifier(new ShellRelay(relayRedis, redisKeys(config.redis.prefix).shellOutbox, config.shell.dmFolder)), ...(discord ? { discord } : {}) });
  const gate = await startConfiguredGate(config, { listen, notifier, logger });
  process.stdout.write(`labgate gate listening on ${gate.url} (revoked serials: ${gate.list.size}; list ${gate.list.refreshedAt ? 'fresh' : 'NOT loaded: answering 503'})\n`);
  logger.info({ url: gate.url, revoked: gate.list.size }, 'labgate gate running');
  await d.waitForSignal();
  await gate.closeAll();
  relayRedis.disconnect();
  return 0;
}

