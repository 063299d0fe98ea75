import type { Redis } from 'ioredis';
import { commandModules } from './commands/index.js';
import { ApprovalBinding } from './approval/binding.js';
import { Signer } from './approval/signing.js';
import type { ChatNotifier } from './messages/notifier.js';
import type { Ports } from './core/command.js';
import { CommandRegistry } from './core/command-registry.js';
import type { Config } from './config/load.js';
import { signingKeyProblem } from './config/schema.js';
import { AccessPolicy } from './core/access.js';
import { Dispatcher } from './core/dispatcher.js';
import type { Services } from './core/services.js';
import { Suggestions } from './stores/suggestions.js';
import { KubernetesApplier } from './kubernetes/applier.js';
import { ClientNodeKubernetes, loadKubeConfig } from './kubernetes/client-node-adapter.js';
import type { Logger } from './log.js';
import { AlertLedger } from './stores/alert-ledger.js';
import { AuditLog } from './stores/audit.js';
import { TargetLocks } from './stores/locks.js';
import { ExposurePolicy } from './policy/exposure-policy.js';
import { ApplyQueue } from './queue/apply-queue.js';
import { PlanStore } from './stores/plan-store.js';
import { Producer } from './queue/producer.js';
import { createRedis, redisKeys, redisPort, safeRedisUrl, waitReady, whenReady } from './stores/redis.js';
import { startWorkers, type Workers } from './queue/workers.js';
import { readiness } from './ops/readiness.js';
import { RouterApplier } from './router/applier.js';
import { routerFromEnv } from './router/routeros-client-adapter.js';
import { PodExecTailscale } from './tailscale/pod-exec-tailscale.js';
import { OpenBaoApplier } from './openbao/applier.js';
import { CsrAttachments } from './chat/csr-attachments.js';
import { openBaoFromConfig } from './openbao/node-vault-adapter.js';

export interface AppOptions {
  config: Config;
  logger: Logger;
  notifier: ChatNotifier;
  /** Run the chat side (dispatcher + producer). */
  chat: boolean;
  /** Run the plan/apply workers in this process. */
  workers: boolean;
  /** Where this process's log goes (a file, or "standard output"), for messages that send a person there. */
  logPlace?: string;
  /** Outside systems; by default built from the configuration. */
  ports?: Partial<Ports>;
  now?: () => number;
  workerConcurrency?: number;
}

export interface App {
  services: Services;
  dispatcher?: Dispatcher;
  /** The chat side's queue client (its progress events feed the shell's "planning…" line). */
  producer?: Producer;
  workers?: Workers;
  /** False when Redis could not be reached at start (commands say so until it is; workers attach when it is). */
  redisReady: boolean;
  /** Stops taking work; running applies get `graceMs` (default shutdown.grace) to finish, then go back to the queue. */
  close(graceMs?: number): Promise<void>;
}

export function buildPorts(config: Config, given: Partial<Ports> = {}, now?: () => number): Ports {
  const kubernetes = given.kubernetes ?? new ClientNodeKubernetes(loadKubeConfig({ kubeconfig: config.env.KUBECONFIG, context: config.kubernetes.context, timeoutMs: config.kubernetes.timeout }));
  return {
    kubernetes,
    router: 'router' in given ? given.router : routerFromEnv(config.env, { timeoutMs: config.router?.timeout ?? 10_000 }),
    tailscale: given.tailscale ?? new PodExecTailscale(kubernetes, config.tailscale.execTimeout),
    openbao: 'openbao' in given ? given.openbao : openBaoFromConfig(config, now),
    csr: given.csr ?? new CsrAttachments({ discordApiBase: config.discord?.apiBase }),
  };
}

/** Wires one labgate process: chat side, workers, or both, on one Redis. */
export async function createApp(opts: AppOptions): Promise<App> {
  const { config, logger } = opts;
  const url = config.env.REDIS_URL;
  const connections: Redis[] = [];
  const connect = (role: 'client' | 'blocking') => {
    const c = createRedis(config.env, role);
    connections.push(c);
    return c;
  };
  const redis = connect('client');
  // /readyz and /metrics (src/ops): Redis's state from the start, and the workers' queues once attached.
  const unwatchRedis = readiness.watchRedis(redis);
  if (opts.workers) readiness.expect('queues');
  let redisReady = true;
  try {
    await waitReady(redis, 3000);
  } catch {
    redisReady = false;
    logger.warn({ redis: safeRedisUrl(url) }, 'Redis is not reachable yet; commands will fail until it is');
    redis.once('ready', () => logger.info({ redis: safeRedisUrl(url) }, 'Redis is reachable'));
  }
  const keys = redisKeys(config.redis.prefix);
  // Queue depth, read at scrape time.
  const unwatch = [unwatchRedis, readiness.watchQueues(redis, keys.bullPrefix)];
  const ports = buildPorts(config, opts.ports, opts.now);
  const access = new AccessPolicy(config);
  const policy = new ExposurePolicy(config);
  const problem = signingKeyProblem(config.env);
  if (problem) throw new Error(problem);
  const signer = Signer.fromText(config.env.LABGATE_SIGNING_KEY!, config.env.LABGATE_SIGNING_KEY_PREVIOUS?.split(',') ?? []);
  // Stores and queues are Redis ports: their client's failures surface as RedisError.
  const applyQueue = redisPort(new ApplyQueue(redis, keys.bullPrefix, config.apply), 'apply queue');
  const services: Services = {
    config,
    logger,
    redis,
    keys,
    store: redisPort(new PlanStore(redis, keys), 'plan store'),
    locks: new TargetLocks(redis, keys),
    audit: redisPort(new AuditLog(redis, keys), 'audit'),
    alerts: redisPort(new AlertLedger(redis, keys), 'alert ledger'),
    access,
    binding: new ApprovalBinding({ signer, access, applyWindowMs: config.apply.window }),
    policy,
    applyQueue,
    commands: new CommandRegistry(commandModules),
    ports,
    appliers: {
      kubernetes: new KubernetesApplier(ports.kubernetes, { policy, clientCaSecret: config.traefik.mtls.clientCaSecret }),
      ...(ports.router ? { router: new RouterApplier(ports.router) } : {}),
      ...(ports.openbao ? { openbao: new OpenBaoApplier({ bao: ports.openbao, notifier: opts.notifier, config, redis, keys, logger, now: opts.now ?? Date.now }) } : {}),
    },
    notifier: opts.notifier,
    logPlace: opts.logPlace ?? 'standard output',
    suggestions: redisPort(new Suggestions(redis, keys), 'suggestions'),
    now: opts.now ?? Date.now,
  };
  let producer: Producer | undefined;
  let dispatcher: Dispatcher | undefined;
  if (opts.chat) {
    producer = new Producer(redis, () => connect('blocking'), keys.bullPrefix, applyQueue);
    dispatcher = new Dispatcher(services, producer);
    if (redisReady) await producer.ready();
  }
  let workers: Workers | undefined;
  const stopping = new AbortController();
  if (opts.workers) {
    const start = () => startWorkers(services, () => connect('blocking'), { concurrency: opts.workerConcurrency }).then((w) => (readiness.set('queues', true), w));
    if (redisReady) workers = await start();
    else {
      // Redis is down: the workers attach once it is back, however long that takes.
      const starting = startWorkersWhenReady(redis, start, logger, stopping.signal);
      workers = {
        // Bounded: a start still waiting on Redis closes itself once it ends (it sees the abort).
        close: async () => (await Promise.race([starting, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref())]))?.close(),
      };
    }
  }
  return {
    services,
    dispatcher,
    producer,
    workers,
    redisReady,
    close: async (graceMs = config.shutdown.grace) => {
      stopping.abort();
      if (opts.workers) readiness.set('queues', false);
      for (const u of unwatch) u();
      await workers?.close(graceMs).catch(() => {});
      await producer?.close();
      await Promise.race([applyQueue.close().catch(() => {}), new Promise<void>((r) => setTimeout(r, 1_000).unref())]);
      await ports.router?.close().catch(() => {});
      // With Redis down a QUIT never gets its answer: give each a moment, then cut it.
      await Promise.allSettled(connections.map((c) => Promise.race([c.quit(), new Promise((_, reject) => setTimeout(reject, 500).unref())]).catch(() => c.disconnect())));
    },
  };
}

/**
 * Starts the workers once Redis is ready; a start that fails (Redis went away again in the
 * middle) is tried again at the next ready. Resolves undefined when stopped first.
 */
async function startWorkersWhenReady(redis: Redis, start: () => Promise<Workers>, logger: Logger, signal: AbortSignal): Promise<Workers | undefined> {
  let pause = 500;
  while (!signal.aborted) {
    try {
      await whenReady(redis, signal);
    } catch {
      return undefined;
    }
    try {
      const workers = await start();
      logger.info('Redis is reachable: workers attached to their queues');
      if (!signal.aborted) return workers;
      await workers.close();
      return undefined;
    } catch (err) {
      logger.warn({ err: (err as Error).message, retryInMs: pause }, 'workers could not start; trying again when Redis is ready');
      await new Promise((r) => setTimeout(r, pause).unref());
      pause = Math.min(pause * 2, 30_000);
    }
  }
  return undefined;
}
