import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { LabgateProcess } from '../support/labgate-process.js';

// `labgate sandbox --rbac` as a person runs it: the sandbox enforces deploy/kubernetes/rbac.yaml
// and writes one env file per component, each with its own ServiceAccount's kubeconfig.

describe('labgate sandbox --rbac', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-sandbox-rbac-'));
  let sandbox: LabgateProcess | undefined;

  afterAll(async () => {
    await sandbox?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN --rbac THEN it names the bot and worker env files, and the bot kubeconfig may read but not write', async () => {
    sandbox = new LabgateProcess(['sandbox', '--rbac', '--state', join(dir, 'state.json')], { cwd: dir, env: { PATH: process.env.PATH!, LABGATE_LOG_FILE: join(dir, 'sandbox.log') } });
    await sandbox.waitFor(/In two more terminals/);
    const botEnv = join(dir, 'labgate-bot.env');
    const workerEnv = join(dir, 'labgate-worker.env');
    expect(sandbox.stdout).toContain(`set -a; . ${workerEnv}; set +a; npx labgate worker`);
    expect(sandbox.stdout).toContain(`set -a; . ${botEnv}; set +a; npx labgate bot`);
    const vars = (file: string) => Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const bot = vars(botEnv);
    const worker = vars(workerEnv);
    expect(Object.keys(bot).filter((k) => /^(BAO_|ROUTEROS_)/.test(k))).toEqual([]);
    expect(Object.keys(worker)).toEqual(expect.arrayContaining(['BAO_ADDR', 'ROUTEROS_PASSWORD', 'LABGATE_SIGNING_KEY', 'KUBECONFIG']));
    expect(existsSync(bot.KUBECONFIG!) && existsSync(worker.KUBECONFIG!)).toBe(true);
    const kc = new KubeConfig();
    kc.loadFromFile(bot.KUBECONFIG!);
    const api = KubernetesObjectApi.makeApiClient(kc);
    expect((await api.list('v1', 'Service', 'media')).items.length).toBeGreaterThan(0);
    const denied = await api.delete({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'immich', namespace: 'media' } }).then(() => 200, (e: { code?: number }) => e.code);
    expect(denied).toBe(403);
  }, 60_000);
});
