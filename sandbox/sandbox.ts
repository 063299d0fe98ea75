import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { startEdge, type Edge } from './edge/edge-server.js';
import { FaultInjector } from './faults.js';
import { defaultHomelab, type Homelab } from './homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox, type KubernetesState } from './kubernetes/index.js';
import type { ControllerTiming } from './kubernetes/workload-controllers.js';
import { ObjectStore } from './kubernetes/object-store.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox, type OpenBaoState } from './openbao/index.js';
import { forwardsUdpPort } from './routeros/port-forwarding.js';
import { seedRouterState, type RouterState } from './routeros/router-state.js';
import { startRouterOsSandbox, type RouterOsSandbox } from './routeros/routeros-sandbox.js';
import { newSigningKey } from '../src/approval/signing.js';
import { sandboxConfigYaml } from './sandbox-config.js';
import { loadRbacManifest } from './kubernetes/deploy-rbac.js';
import { BOT_ACCOUNT, WORKER_ACCOUNT } from '../src/deploy/rbac.js';
import type { ServingCertificates } from './kubernetes/serving-certificates.js';
import { certificateFields } from '../src/pki/certificate-fields.js';
import { withExecFaults } from './tailscale/exec-faults.js';
import { tailscaleExecHandler } from './tailscale/tailscale-exec-handler.js';
import { TailscaleSimulator } from './tailscale/tailscale-simulator.js';
import { seedTailscaleState, type TailscaleState } from './tailscale/tailscale-state.js';

export interface SandboxState {
  version: 1;
  homelab: Homelab;
  kubernetes: KubernetesState;
  openbao: OpenBaoState;
  router: RouterState;
  tailscale: TailscaleState;
  /** The OpenBao token written to the env file, kept so it stays valid across restarts. */
  sandboxBaoToken?: string;
  /** labgate's signing key for this sandbox (LABGATE_SIGNING_KEY), kept so pending plans stay valid across restarts. */
  signingKey?: string;
  /**
   * Ports and the Kubernetes API's serving certificates of the last run of a state file, reused
   * so that a labgate still running against the sandbox reconnects once it is back.
   */
  sandboxEndpoints?: { ports: { kubernetes: number; openbao: number; router: number }; kubernetesServing?: ServingCertificates; edgePorts?: Record<string, number> };
}

export interface SandboxOptions {
  /** Where the state persists between runs; without one the sandbox lives in memory only. */
  stateFile?: string;
  /** Folder for the kubeconfig and labgate.yaml it writes (default: next to the state file). */
  dir?: string;
  /** Where to write the env file (KEY=value lines). */
  envFile?: string;
  homelab?: Homelab;
  /** A state to start from instead of the file or the seed. */
  state?: SandboxState;
  /** Clock for OpenBao (certificate validity, token expiry) and Tailscale timestamps. */
  now?: () => number;
  /** Serve RouterOS api-ssl too, and point labgate at it. */
  routerTls?: boolean;
  /** How fast simulated pods stop and start (default about a second each). */
  podTiming?: ControllerTiming;
  /**
   * Enforce labgate's own RBAC: load this RBAC manifest (true: deploy/kubernetes/rbac.yaml, what
   * users apply) and write a kubeconfig and an env file per ServiceAccount (labgate-bot, labgate-worker).
   */
  rbac?: boolean | string;
}

/** What one labgate component runs with under `rbac`: its ServiceAccount's kubeconfig and only its own secrets. */
export interface SandboxAccount {
  kubeconfig: string;
  env: Record<string, string>;
  envFile: string;
}

export interface Sandbox {
  state: SandboxState;
  faults: { kubernetes: FaultInjector; openbao: FaultInjector; router: FaultInjector; tailscale: FaultInjector };
  kubernetes: KubernetesSandbox;
  openbao: OpenBaoSandbox;
  router: RouterOsSandbox;
  /** The `tailscale` CLI of every node; knobs change connectivity over time. */
  tailscale: TailscaleSimulator;
  /** Traefik's stand-in: TLS on websecure and ts-secure, the routes' TLS options and middlewares, an echo backend. */
  edge: Edge;
  /** Rolls the Traefik DaemonSet node by node (what `kubectl rollout restart daemonset/traefik` does). */
  rolloutTraefik(): void;
  /** What labgate needs to reach the sandbox: KUBECONFIG, LABGATE_CONFIG, BAO_*, ROUTEROS_*. */
  env: Record<string, string>;
  files: { kubeconfig: string; config: string; envFile?: string; stateFile?: string };
  /** With `rbac`: the bot's and the worker's ServiceAccount kubeconfigs and env files. */
  accounts?: { bot: SandboxAccount; worker: SandboxAccount };
  /** Writes the state file now (it is also written shortly after every change). */
  save(): void;
  close(): Promise<void>;
}

export async function seedSandboxState(homelab: Homelab = defaultHomelab(), now?: () => number): Promise<SandboxState> {
  return {
    version: 1,
    homelab,
    kubernetes: seedKubernetesState(homelab),
    openbao: await seedOpenBaoState({ homelab, now }),
    router: seedRouterState(homelab),
    tailscale: seedTailscaleState(homelab),
  };
}

function readState(file: string): SandboxState | undefined {
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  if (s.version !== 1 || !s.kubernetes || !s.homelab || !s.openbao || !s.router || !s.tailscale)
    throw new Error(`${file} is not a labgate sandbox state file of this version; delete it to start from a fresh sandbox`);
  return s;
}

/** Starts a server on `port`, or on a free one when that is taken (another program got it meanwhile). */
async function onPort<T>(port: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (!port) return start(0);
  try {
    return await start(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return start(0);
  }
}

/** Saved serving certificates still good for a day; otherwise a fresh set is made. */
function stillValid(certs: ServingCertificates | undefined): ServingCertificates | undefined {
  try {
    return certs && certificateFields(certs.certPem).notAfter > Date.now() + 86_400_000 ? certs : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** The pod → node mapping the exec handler needs, read from the sandbox's Kubernetes state. */
function podToNode(state: KubernetesState): (namespace: string, pod: string) => string | undefined {
  const store = new ObjectStore(state);
  return (namespace, pod) => (store.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod })?.spec as { nodeName?: string } | undefined)?.nodeName;
}

/**
 * Starts the simulated homelab on loopback: the Kubernetes API (HTTPS, token auth, pod exec
 * into the Tailscale containers), OpenBao (PKI + auth) and the RouterOS API, seeded from one
 * homelab description, and writes a kubeconfig, a labgate.yaml and optionally an env file that
 * point labgate at them. State is saved to the state file shortly after every change.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const stateFile = opts.stateFile ? resolve(opts.stateFile) : undefined;
  const state = opts.state ?? (stateFile ? readState(stateFile) : undefined) ?? (await seedSandboxState(opts.homelab, opts.now));
  const dir = resolve(opts.dir ?? (stateFile ? dirname(stateFile) : '.labgate/sandbox'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let timer: NodeJS.Timeout | undefined;
  const save = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stateFile) writeAtomic(stateFile, JSON.stringify(state));
  };
  const onChange = () => {
    if (stateFile && !timer) timer = setTimeout(save, 100);
  };

  const faults = { kubernetes: new FaultInjector(), openbao: new FaultInjector(), router: new FaultInjector(), tailscale: new FaultInjector() };
  // A state file's sandbox comes back where it was: same ports, same Kubernetes CA.
  const last = stateFile ? state.sandboxEndpoints : undefined;
  const router = await onPort(last?.ports.router, (port) => startRouterOsSandbox({ state: state.router, faults: faults.router, onChange, tls: opts.routerTls, port }));
  // A node behind hard NAT goes direct once the router forwards its WireGuard port, as in a real network.
  const tailscale = new TailscaleSimulator({
    state: state.tailscale,
    onChange,
    now: opts.now,
    portForwarded: (n) => forwardsUdpPort(router.rules(), { ip: n.ip, port: n.tailscalePort }),
  });
  const serving = stillValid(last?.kubernetesServing);
  const kubernetes = await onPort(last?.ports.kubernetes, (port) =>
    startKubernetesSandbox({
      state: state.kubernetes,
      faults: faults.kubernetes,
      onChange,
      execHandler: withExecFaults(faults.tailscale, tailscaleExecHandler(tailscale, podToNode(state.kubernetes))),
      port,
      ...(serving ? { certificates: serving } : {}),
      timing: opts.podTiming,
    }),
  );
  const openbao = await onPort(last?.ports.openbao, (port) => startOpenBaoSandbox({ state: state.openbao, faults: faults.openbao, onChange, now: opts.now, port }));
  const edge = await startEdge({ store: new ObjectStore(state.kubernetes), domain: state.homelab.domain, ports: last?.edgePorts });
  const ports = { kubernetes: kubernetes.port, openbao: openbao.port, router: router.port };
  // Ports taken by someone else (another sandbox on this state file) are not the ones to come back to.
  const movedAside = last && JSON.stringify(last.ports) !== JSON.stringify(ports);
  if (stateFile && !movedAside) state.sandboxEndpoints = { ports, kubernetesServing: kubernetes.certificates, edgePorts: edge.ports };

  const kubeconfig = join(dir, 'kubeconfig');
  const config = join(dir, 'labgate.yaml');
  writeAtomic(kubeconfig, kubernetes.kubeconfig());
  writeAtomic(config, sandboxConfigYaml(state.homelab), 0o644);
  const env: Record<string, string> = {
    KUBECONFIG: kubeconfig,
    LABGATE_CONFIG: config,
    BAO_ADDR: openbao.url,
    // A renewable token with exactly labgate's policy (the sandbox also accepts its AppRole).
    BAO_TOKEN: state.sandboxBaoToken ?? (state.sandboxBaoToken = openbao.createToken({ policies: ['labgate'], ttlSeconds: 30 * 86400, maxTtlSeconds: 365 * 86400 })),
    ROUTEROS_HOST: router.host,
    ROUTEROS_PORT: String(opts.routerTls ? router.tlsPort : router.port),
    ROUTEROS_USER: router.user,
    ROUTEROS_PASSWORD: router.password,
    LABGATE_SIGNING_KEY: state.signingKey ?? (state.signingKey = newSigningKey()),
    // Not read by labgate: where to try the routes it creates (curl --resolve … --cacert the CA file).
    LABGATE_SANDBOX_EDGE: edge.urls.websecure!,
    LABGATE_SANDBOX_EDGE_TS: edge.urls['ts-secure']!,
    LABGATE_SANDBOX_EDGE_CA: writeFile(dir, 'edge-ca.pem', edge.caPem),
    // /mtls-check goes through the edge instead of https://<host>:443.
    LABGATE_MTLS_CHECK_VIA: edge.urls.websecure!,
    LABGATE_MTLS_CHECK_CA: join(dir, 'edge-ca.pem'),
    ...(opts.routerTls ? { ROUTEROS_TLS: 'true', ROUTEROS_CA: writeCa(dir, router.tlsCertificatePem!) } : {}),
  };
  const envFile = opts.envFile ? resolve(opts.envFile) : undefined;
  const envText = (e: Record<string, string>) => Object.entries(e).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  if (envFile) writeAtomic(envFile, envText(env));
  const accounts = opts.rbac ? rbacAccounts(kubernetes, dir, env, typeof opts.rbac === 'string' ? opts.rbac : undefined) : undefined;
  if (accounts) for (const a of Object.values(accounts)) writeAtomic(a.envFile, envText(a.env));
  save();

  return {
    state,
    faults,
    kubernetes,
    openbao,
    router,
    tailscale,
    edge,
    rolloutTraefik: () => kubernetes.rolloutRestart(state.homelab.traefikNamespace, 'traefik'),
    env,
    files: { kubeconfig, config, envFile, stateFile },
    ...(accounts ? { accounts } : {}),
    save,
    close: async () => {
      save();
      await Promise.all([kubernetes.close(), openbao.close(), router.close(), edge.close()]);
    },
  };
}

/** Loads the RBAC manifest and gives the bot and the worker each a ServiceAccount kubeconfig; the bot gets no router or OpenBao credentials. */
function rbacAccounts(kubernetes: KubernetesSandbox, dir: string, env: Record<string, string>, file?: string): { bot: SandboxAccount; worker: SandboxAccount } {
  const accounts = loadRbacManifest(kubernetes.objects, file);
  const account = (name: string, own: (key: string) => boolean): SandboxAccount => {
    const sa = accounts.find((a) => a.name === name);
    if (!sa) throw new Error(`sandbox: the RBAC manifest has no ServiceAccount ${name}`);
    const kubeconfig = join(dir, `kubeconfig-${name}`);
    writeAtomic(kubeconfig, kubernetes.kubeconfigFor(sa.namespace, sa.name));
    return { kubeconfig, env: { ...Object.fromEntries(Object.entries(env).filter(([k]) => own(k))), KUBECONFIG: kubeconfig }, envFile: join(dir, `${name}.env`) };
  };
  return {
    bot: account(BOT_ACCOUNT, (k) => !/^(BAO_|ROUTEROS_)/.test(k)),
    worker: account(WORKER_ACCOUNT, () => true),
  };
}

function writeFile(dir: string, name: string, pem: string): string {
  const file = join(dir, name);
  writeAtomic(file, pem, 0o644);
  return file;
}

function writeCa(dir: string, pem: string): string {
  const file = join(dir, 'routeros-ca.pem');
  writeAtomic(file, pem, 0o644);
  return file;
}
