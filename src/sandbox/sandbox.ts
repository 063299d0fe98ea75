import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FaultInjector } from './faults.js';
import { defaultHomelab, type Homelab } from './homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox, type KubernetesState } from './kubernetes/index.js';
import { sandboxConfigYaml } from './sandbox-config.js';

export interface SandboxState {
  version: 1;
  homelab: Homelab;
  kubernetes: KubernetesState;
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
}

export interface Sandbox {
  state: SandboxState;
  faults: { kubernetes: FaultInjector };
  kubernetes: KubernetesSandbox;
  /** What labgate needs to reach the sandbox: KUBECONFIG, LABGATE_CONFIG. */
  env: Record<string, string>;
  files: { kubeconfig: string; config: string; envFile?: string; stateFile?: string };
  /** Writes the state file now (it is also written shortly after every change). */
  save(): void;
  close(): Promise<void>;
}

export function seedSandboxState(homelab: Homelab = defaultHomelab()): SandboxState {
  return { version: 1, homelab, kubernetes: seedKubernetesState(homelab) };
}

function readState(file: string): SandboxState | undefined {
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  if (s.version !== 1 || !s.kubernetes || !s.homelab) throw new Error(`${file} is not a labgate sandbox state file (version 1)`);
  return s;
}

function writeAtomic(file: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/**
 * Starts the simulated homelab on loopback: the Kubernetes API (HTTPS, token auth) seeded with
 * the homelab, and writes a kubeconfig, a labgate.yaml and optionally an env file that point
 * labgate at it. State is saved to the state file shortly after every change.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const stateFile = opts.stateFile ? resolve(opts.stateFile) : undefined;
  const state = opts.state ?? (stateFile ? readState(stateFile) : undefined) ?? seedSandboxState(opts.homelab);
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

  const faults = { kubernetes: new FaultInjector() };
  const kubernetes = await startKubernetesSandbox({ state: state.kubernetes, faults: faults.kubernetes, onChange });
  const kubeconfig = join(dir, 'kubeconfig');
  const config = join(dir, 'labgate.yaml');
  writeAtomic(kubeconfig, kubernetes.kubeconfig());
  writeAtomic(config, sandboxConfigYaml(state.homelab), 0o644);
  const env = { KUBECONFIG: kubeconfig, LABGATE_CONFIG: config };
  const envFile = opts.envFile ? resolve(opts.envFile) : undefined;
  if (envFile) writeAtomic(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  save();

  return {
    state,
    faults,
    kubernetes,
    env,
    files: { kubeconfig, config, envFile, stateFile },
    save,
    close: async () => {
      save();
      await kubernetes.close();
    },
  };
}
