import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueState, startLab, type Lab } from '../support/lab.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe('Redis unreachable at command time', () => {
  let proxy: TcpProxy;
  let lab: Lab;
  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1', 6379);
    lab = await startLab({ redisUrl: proxy.url });
  });
  afterAll(async () => {
    proxy.restore();
    await lab.close();
    await proxy.close();
  });

  it('GIVEN Redis goes away WHEN a command arrives THEN the person gets a clear message, nothing is queued and nothing applied', async () => {
    const queues = await queueState(lab);
    proxy.cut();
    const writes = lab.kubeWrites().length;
    const out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    expect(out.fault).toBe(true);
    expect(out.replies).toHaveLength(1);
    expect(out.replies[0]!.kind).toBe('error');
    expect(out.replies[0]!.text).toBe(`Redis at ${proxy.url} is unreachable; nothing was queued or changed. Try again when it is back (log: standard output).`);
    expect(out.replies[0]!.ref).toMatch(/^ref-[0-9a-f]{8}$/);
    // The log entry with the cause carries the same reference.
    expect(lab.logs.text).toContain(out.replies[0]!.ref!);

    const decision = await lab.run('approve');
    expect(decision.fault).toBe(true);
    expect(decision.replies[0]!.text).toMatch(/Redis at .* is unreachable; nothing was queued or changed/);

    proxy.restore();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await queueState(lab)).toEqual(queues);
    expect(lab.kubeWrites().length).toBe(writes);
  });

  it('GIVEN Redis is back THEN commands work again without a restart', async () => {
    let out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    for (let i = 0; i < 20 && out.fault; i++) {
      await new Promise((r) => setTimeout(r, 250));
      out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    }
    expect(out.fault).toBeFalsy();
    expect(out.planId).toMatch(/^p-/);
  });
});
