import { describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState } from '../../sandbox/kubernetes/index.js';
import { tailscaleExecHandler } from '../../sandbox/tailscale/tailscale-exec-handler.js';
import { TailscaleSimulator } from '../../sandbox/tailscale/tailscale-simulator.js';
import { seedTailscaleState } from '../../sandbox/tailscale/tailscale-state.js';

const homelab = defaultHomelab();
const podToNode = (namespace: string, pod: string) => (namespace === 'traefik' && pod.startsWith('traefik-') ? pod.slice('traefik-'.length) : undefined);

function exec(command: string[]) {
  const sim = new TailscaleSimulator({ state: seedTailscaleState(homelab), now: () => Date.UTC(2026, 0, 1) });
  return tailscaleExecHandler(sim, podToNode)({ namespace: 'traefik', pod: 'traefik-node-21', container: 'tailscale', command });
}

describe('sandbox tailscale container', () => {
  it('GIVEN the seeded DaemonSet THEN `tailscale version` reports the release of the image tag the pods run', async () => {
    const ds = Object.values(seedKubernetesState(homelab).objects['apps/daemonsets'] ?? {})[0] as unknown as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    const image = ds.spec.template.spec.containers.find((c) => c.name === 'tailscale')!.image;
    const tag = image.split(':').pop()!.replace(/^v/, '');
    const out = await exec(['tailscale', 'version']);
    // version.String(): short version, "tailscale commit", Go version (tailscale/version/print.go).
    expect(out.stdout.split('\n')[0]).toBe(tag);
    expect(out.stdout).toMatch(/^ {2}tailscale commit: [0-9a-f]{40}$/m);
    const status = JSON.parse((await exec(['tailscale', 'status', '--json'])).stdout) as { Version: string };
    expect(status.Version.split('-')[0]).toBe(tag);
  });

  it('GIVEN the pod command is /bin/sh -c THEN sh exists and runs scripts with && and ||, and says "not found" as busybox does', async () => {
    expect(await exec(['/bin/sh', '-c', 'tailscale ip -4 && echo ok'])).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^100\.\d+\.\d+\.\d+\nok\n$/) });
    expect(await exec(['sh', '-c', 'nosuch || echo "fallback $HOSTNAME"'])).toEqual({ stdout: 'fallback node-21\n', stderr: 'sh: nosuch: not found\n', exitCode: 0 });
    expect(await exec(['sh', '-c', 'exit 3; echo never'])).toMatchObject({ exitCode: 3, stdout: '' });
    expect(await exec(['nosuch'])).toMatchObject({ exitCode: 127, stderr: 'exec: "nosuch": executable file not found in $PATH\n' });
  });

  it('GIVEN three Traefik nodes THEN each sees the other two as tagged, online peers, reached directly on the LAN', async () => {
    const status = JSON.parse((await exec(['tailscale', 'status', '--json'])).stdout) as { Peer: Record<string, { HostName: string; Tags?: string[]; Online: boolean }> };
    const nodes = Object.values(status.Peer).filter((p) => p.HostName.startsWith('node-'));
    expect(nodes.map((p) => p.HostName).sort()).toEqual(['node-22', 'node-23']);
    for (const p of nodes) expect(p).toMatchObject({ Tags: ['tag:k8s'], Online: true });
    const ping = await exec(['tailscale', 'ping', 'node-22']);
    expect(ping.stdout).toMatch(/^pong from node-22 \(100\.[\d.]+\) via 192\.168\.10\.22:41622 in \d+ms\n$/);
  });
});
