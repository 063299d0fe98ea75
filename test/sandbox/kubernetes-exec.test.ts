import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { FaultInjector } from '../../sandbox/faults.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import {
  seedKubernetesState,
  startKubernetesSandbox,
  type ExecRequest,
  type ExecResult,
  type KubernetesSandbox,
  type KubernetesState,
} from '../../sandbox/kubernetes/index.js';

interface ExecOutcome {
  stdout: string;
  stderr: string;
  status: V1Status;
}

/** Runs a command through client-node's Exec and collects what came back. */
async function runExec(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<ExecOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    new Exec(kc)
      .exec(namespace, pod, container, command, stdout, stderr, null, false, (status) => resolve({ stdout: out, stderr: err, status }))
      .catch(reject);
  });
}

function traefikPods(state: KubernetesState): string[] {
  return Object.values(state.objects['core/pods'] ?? {})
    .filter((p) => p.metadata.namespace === 'traefik')
    .map((p) => p.metadata.name);
}

describe('sandbox Kubernetes API: pod exec over WebSocket', () => {
  let state: KubernetesState;
  let sandbox: KubernetesSandbox;
  let bare: KubernetesSandbox;
  let kc: KubeConfig;
  let bareKc: KubeConfig;
  const faults = new FaultInjector();
  const seen: ExecRequest[] = [];

  beforeAll(async () => {
    state = seedKubernetesState(defaultHomelab());
    sandbox = await startKubernetesSandbox({
      state,
      faults,
      execHandler: async (req): Promise<ExecResult> => {
        seen.push(req);
        if (req.command[0] === 'false') return { stdout: '', stderr: 'nope\n', exitCode: 1 };
        if (req.command[0] === 'boom') throw new Error('simulator exploded');
        return { stdout: `${req.pod}:${req.container}:${req.command.join(' ')}\n`, exitCode: 0 };
      },
    });
    kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    bare = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    bareKc = new KubeConfig();
    bareKc.loadFromString(bare.kubeconfig());
  });

  afterAll(async () => {
    await sandbox.close();
    await bare.close();
  });

  it('runs the command through the handler and returns stdout with a Success status', async () => {
    const pod = traefikPods(state)[0]!;
    const result = await runExec(kc, 'traefik', pod, 'tailscale', ['tailscale', 'status', '--json']);
    expect(result.stdout).toBe(`${pod}:tailscale:tailscale status --json\n`);
    expect(result.status).toEqual({ metadata: {}, status: 'Success' });
    expect(seen.at(-1)).toEqual({ namespace: 'traefik', pod, container: 'tailscale', command: ['tailscale', 'status', '--json'] });
    const upgrade = sandbox.requests.filter((r) => r.verb === 'exec').at(-1);
    expect(upgrade).toMatchObject({ method: 'GET', path: `/api/v1/namespaces/traefik/pods/${pod}/exec`, status: 101 });
    expect(upgrade?.query.command).toEqual(['tailscale', 'status', '--json']);
  });

  it('GIVEN a non-zero exit THEN stderr arrives and the status is a NonZeroExitCode Failure with the code', async () => {
    const result = await runExec(kc, 'traefik', traefikPods(state)[1]!, 'tailscale', ['false']);
    expect(result.stderr).toBe('nope\n');
    expect(result.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [false], exit code 1',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '1' }] },
    });
  });

  it('GIVEN no container is named THEN the first container of the pod runs it', async () => {
    await runExec(kc, 'traefik', traefikPods(state)[0]!, '', ['echo']);
    expect(seen.at(-1)?.container).toBe('traefik');
  });

  it('GIVEN the handler throws THEN the status is an InternalError Failure', async () => {
    const result = await runExec(kc, 'traefik', traefikPods(state)[0]!, 'tailscale', ['boom']);
    expect(result.status).toMatchObject({ status: 'Failure', reason: 'InternalError' });
    expect(result.status.message).toContain('simulator exploded');
  });

  it('GIVEN no exec handler THEN exit code 126 with a message on stderr', async () => {
    const pod = Object.values(bare.objects.list('v1', 'Pod', 'traefik'))[0]!.metadata.name;
    const result = await runExec(bareKc, 'traefik', pod, 'tailscale', ['tailscale', 'netcheck']);
    expect(result.stderr).toMatch(/no exec handler/);
    expect(result.status.details?.causes).toEqual([{ reason: 'ExitCode', message: '126' }]);
  });

  it('GIVEN the pod does not exist THEN the upgrade is refused with 404 before any WebSocket opens', async () => {
    await expect(runExec(kc, 'traefik', 'traefik-nopod', 'tailscale', ['true'])).rejects.toThrow(/404/);
    expect(sandbox.requests.filter((r) => r.verb === 'exec').at(-1)).toMatchObject({ path: '/api/v1/namespaces/traefik/pods/traefik-nopod/exec', status: 404 });
  });

  it('GIVEN a container the pod does not have THEN the upgrade is refused with 400', async () => {
    await expect(runExec(kc, 'traefik', traefikPods(state)[0]!, 'sidecar', ['true'])).rejects.toThrow(/400/);
  });

  it('GIVEN no token THEN the upgrade is refused with 401', async () => {
    const anon = new KubeConfig();
    anon.loadFromString(sandbox.kubeconfig().replace(sandbox.token, 'wrong'));
    await expect(runExec(anon, 'traefik', traefikPods(state)[0]!, 'tailscale', ['true'])).rejects.toThrow(/401/);
  });

  it('GIVEN an injected fault on the exec path THEN the upgrade fails with that status', async () => {
    const pod = traefikPods(state)[2]!;
    faults.add({ match: `GET /api/v1/namespaces/traefik/pods/${pod}/exec`, status: 503 });
    await expect(runExec(kc, 'traefik', pod, 'tailscale', ['true'])).rejects.toThrow(/503/);
    const ok = await runExec(kc, 'traefik', pod, 'tailscale', ['true']);
    expect(ok.status.status).toBe('Success');
  });
});
