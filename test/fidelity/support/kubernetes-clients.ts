/**
 * Independent Kubernetes clients for the fidelity suite: the `kubectl` on this machine and
 * Debian's python3-kubernetes, pointed at a sandbox through a kubeconfig in a temporary
 * folder (which also holds kubectl's discovery cache and HOME, so no run sees another's).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Debian's python3-kubernetes installs for the system interpreter, which a pyenv shim may hide.
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class KubeClients {
  readonly dir = mkdtempSync(join(tmpdir(), 'labgate-fidelity-'));
  private n = 0;

  /** A kubeconfig file holding `yaml`; the admin one unless another is given. */
  constructor(private readonly adminKubeconfig: string) {
    writeFileSync(join(this.dir, 'kubeconfig'), adminKubeconfig, { mode: 0o600 });
  }

  /** Writes another kubeconfig (a ServiceAccount's) and returns its path. */
  kubeconfigFile(yaml: string): string {
    const file = join(this.dir, `kubeconfig-${++this.n}`);
    writeFileSync(file, yaml, { mode: 0o600 });
    return file;
  }

  /** Writes a manifest and returns its path. */
  manifest(yaml: string): string {
    const file = join(this.dir, `manifest-${++this.n}.yaml`);
    writeFileSync(file, yaml);
    return file;
  }

  /** `kubectl <args>` with default flags, as a person would type it. */
  kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}): Promise<Run> {
    return run('kubectl', args, { KUBECONFIG: opts.kubeconfig ?? join(this.dir, 'kubeconfig'), HOME: this.dir, KUBECACHEDIR: join(this.dir, 'cache') }, opts.input);
  }

  /** Runs a python3 script (with the kubeconfig path as argv[1]) and parses the JSON it prints. */
  async python<T>(script: string): Promise<T> {
    const file = join(this.dir, `script-${++this.n}.py`);
    writeFileSync(file, script);
    const r = await run(PYTHON, [file, join(this.dir, 'kubeconfig')], { HOME: this.dir });
    if (r.code !== 0) throw new Error(`python3 ${file} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
