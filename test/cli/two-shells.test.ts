import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

interface Shell {
  child: ChildProcessWithoutNullStreams;
  messages: { kind: string; text: string; planId?: string; edit?: boolean; reply?: boolean }[];
  /** Types a line; resolves once a message matching `until` has been printed. */
  type(line: string, until: (m: Shell['messages'][number]) => boolean): Promise<void>;
  close(): Promise<number | null>;
}

function shell(env: Record<string, string>, as: string): Shell {
  const child = spawn(process.execPath, [BIN, 'shell', '--json', '--as', as], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: Shell['messages'] = [];
  let buffer = '';
  child.stdout.on('data', (d) => {
    buffer += d;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const l of lines) if (l.trim()) messages.push(JSON.parse(l));
  });
  child.stderr.resume();
  return {
    child,
    messages,
    type: async (line, until) => {
      const seen = messages.length;
      child.stdin.write(`${line}\n`);
      const deadline = Date.now() + 20_000;
      while (!messages.slice(seen).some(until)) {
        if (Date.now() > deadline) throw new Error(`no answer to ${line}; printed: ${JSON.stringify(messages.slice(seen))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      child.stdin.end();
      return await new Promise((r) => child.once('close', r));
    },
  };
}

/**
 * Two people each run `labgate shell` against the same labgate (one sandbox, one Redis prefix).
 * Both processes run workers, so either may do the other's jobs; what each sees is still only
 * its own conversation.
 */
describe('two shells on one Redis: separate conversations', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  const prefix = `lgtest-two-shells-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-two-shells-'));

  beforeAll(async () => {
    sandbox = await startSandbox({ dir });
    const config = join(dir, 'labgate-test.yaml');
    writeFileSync(
      config,
      readFileSync(sandbox.files.config, 'utf8')
        .replace('prefix: labgate-sandbox', `prefix: ${prefix}`)
        .replace('selfApprove: true', 'selfApprove: false')
        .replace('approvers: [shell:alice]', 'approvers: [shell:alice, shell:bob]'),
    );
    env = { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(dir, 'labgate.log'), REDIS_URL };
  });
  afterAll(async () => {
    await sandbox.close();
    await dropPrefix(prefix);
  });

  it('GIVEN alice and bob in two shell processes WHEN each plans and approves THEN each sees only their own plans, replies and results, and a bare approve only ever means a plan of its own shell', async () => {
    const a = shell(env, 'alice');
    const b = shell(env, 'bob');
    const isPlan = (m: Shell['messages'][number]) => m.kind === 'plan' && !m.edit;
    await a.type('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only', isPlan);
    await b.type('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only', isPlan);
    const planA = a.messages.find(isPlan)!.planId!;
    const planB = b.messages.find(isPlan)!.planId!;

    // Bob's bare approve means his plan, the only one pending in his shell: refused as his own,
    // though alice's is pending too, and never applied to alice's plan.
    await b.type('approve', (m) => m.kind === 'refusal');
    expect(b.messages.at(-1)!.text).toMatch(/you requested this plan; someone else must approve it/);
    // Each approves the other's by id, from their own shell.
    await a.type(`approve ${planB}`, (m) => m.kind === 'refusal' || m.kind === 'result');
    await b.type(`approve ${planA}`, (m) => m.kind === 'refusal' || m.kind === 'result');
    expect(a.messages.at(-1)!.text).toBe(`plan ${planB} belongs to another conversation; nothing was changed`);
    expect(b.messages.at(-1)!.text).toBe(`plan ${planA} belongs to another conversation; nothing was changed`);
    await a.type('@bob approve', (m) => m.kind === 'result');
    expect(a.messages.at(-1)).toMatchObject({ kind: 'result', planId: planA, text: `Applied ${planA}: 1 change` });

    expect([await a.close(), await b.close()]).toEqual([0, 0]);
    expect(a.messages.filter((m) => m.planId === planB)).toEqual([]);
    expect(b.messages.filter((m) => m.planId === planA)).toEqual([]);
    expect(b.messages.some((m) => m.kind === 'result')).toBe(false);
  });
});
