import { certScenarios } from './certs.js';
import { derpScenarios } from './derp.js';
import { discordAckScenario } from './discord-ack.js';
import { foundationScenarios } from './foundation.js';
import { opsScenario } from './ops.js';
import { gateScenarios } from './gate.js';
import { recoveryScenario } from './recovery.js';
import { sentinelScenario } from './sentinel.js';
import { startRedisScenario } from './start-redis.js';
import type { Figure, Scenario } from './figures.js';

/**
 * `npm run bench [-- --json] [-- --only NAME]`: runs every scenario against real Redis and the
 * sandbox and prints a table (or one JSON object per figure per line).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const scenarios: Scenario[] = [...foundationScenarios, discordAckScenario, ...certScenarios, ...derpScenarios, ...gateScenarios, startRedisScenario, recoveryScenario, opsScenario, sentinelScenario].filter((s) => !only || s.name.includes(only));
  const figures: Figure[] = [];
  for (const s of scenarios) {
    if (!json) process.stderr.write(`bench: ${s.name}…\n`);
    const got = await s.run();
    figures.push(...got);
    if (json) for (const f of got) process.stdout.write(JSON.stringify({ scenario: f.scenario, metric: f.metric, value: f.value, unit: f.unit, ...(f.note ? { note: f.note } : {}) }) + '\n');
  }
  if (!json) {
    const rows = figures.map((f) => [f.scenario, f.metric, `${f.value} ${f.unit}`, f.note ?? '']);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['scenario', 'metric', 'value'][i]!.length));
    const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
    process.stdout.write([line(['scenario', 'metric', 'value', 'compare with']), ...rows.map(line)].join('\n') + '\n');
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
