import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/sandbox.js';

describe('a sandbox restarted on the same state file', () => {
  it('GIVEN a state file WHEN the sandbox stops and starts again THEN it listens on the same ports with the same Kubernetes CA, so clients of the first run reconnect', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'labgate-restart-')), 'state.json');
    const first = await startSandbox({ stateFile });
    const before = { env: first.env, ca: first.kubernetes.caPem };
    await first.close();
    const second = await startSandbox({ stateFile });
    try {
      expect(second.env).toEqual(before.env);
      expect(second.kubernetes.caPem).toBe(before.ca);
      const res = await fetch(`${second.openbao.url}/v1/sys/health`);
      expect(res.status).toBeLessThan(500);
    } finally {
      await second.close();
    }
  });

  it('GIVEN its Kubernetes port was taken meanwhile WHEN it starts again THEN it takes a free port and keeps the recorded ones for next time', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'labgate-restart-')), 'state.json');
    const first = await startSandbox({ stateFile });
    const port = first.kubernetes.port;
    await first.close();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
    try {
      const second = await startSandbox({ stateFile });
      expect(second.kubernetes.port).not.toBe(port);
      expect(second.state.sandboxEndpoints?.ports.kubernetes).toBe(port);
      await second.close();
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    const third = await startSandbox({ stateFile });
    expect(third.kubernetes.port).toBe(port);
    await third.close();
  });
});
