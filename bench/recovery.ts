import { JOB_LOCK_MS, STALLED_INTERVAL_MS } from '../src/queue/workers.js';
// The same harness the fault tests use: the sandbox here, `labgate worker` child processes there.
import { Fleet } from '../test/support/fleet.js';
import { until } from '../test/support/labgate-process.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const routePath = (ns: string, name: string) => `/apis/traefik.io/v1alpha1/namespaces/${ns}/ingressroutes/${name}`;


/**
 * Worker SIGKILL mid-apply → the result posted by the other worker: p50 and max over `runs`, beside
 * the same apply with no crash and the bound the lock and stalled-job settings give.
 */
export const recoveryScenario: Scenario = {
  name: 'recovery (worker SIGKILL mid-apply)',
  async run(): Promise<Figure[]> {
    const runs = Number(process.env.BENCH_RECOVERY_RUNS ?? 10);
    const fleet = await Fleet.start();
    const recovered: number[] = [];
    const normal: number[] = [];
    try {
      await fleet.spawnWorker();
      await fleet.spawnWorker();
      for (let i = 0; i < runs + 3; i++) {
        const host = `rec-${i}`;
        const planId = await fleet.plan(`/expose service:immich namespace:media port:2283 host:${host} auth:tailscale-only`);
        if (i < 3) {
          // The floor: the same apply, nobody dies.
          const t = performance.now();
          await fleet.approve(planId);
          await fleet.result(planId);
          normal.push(performance.now() - t);
          continue;
        }
        fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('media', `${host}-ts`)}`, hang: true, times: 1 });
        await fleet.approve(planId);
        const pid = (await fleet.applyingWorker(planId)).proc.pid!;
        await until(() => fleet.sandbox.faults.kubernetes.pending === 0, 'the hanging write');
        const victim = fleet.workers.find((w) => w.proc.pid === pid)!;
        const t = performance.now();
        await victim.kill('SIGKILL');
        await fleet.result(planId, 120_000);
        recovered.push(performance.now() - t);
        fleet.workers.splice(fleet.workers.indexOf(victim), 1);
        await fleet.spawnWorker(`r${i}`);
      }
    } finally {
      await fleet.close();
    }
    const s = 'recovery';
    return [
      { scenario: s, metric: 'SIGKILL mid-apply → result by another worker p50', value: round(percentile(recovered, 50) / 1000, 2), unit: 's', note: `no crash: approve → result p50 ${round(percentile(normal, 50) / 1000, 2)} s; target ≤ 15` },
      { scenario: s, metric: 'SIGKILL mid-apply → result by another worker max', value: round(Math.max(...recovered) / 1000, 2), unit: 's', note: `bound: job lock ${JOB_LOCK_MS / 1000} s + stalled check every ${STALLED_INTERVAL_MS / 1000} s, ${recovered.length} runs` },
    ];
  },
};
