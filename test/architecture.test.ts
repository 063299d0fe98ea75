import madge from 'madge';
import { describe, expect, it } from 'vitest';

/**
 * The layout's rules, checked on every run (docs: README "How it works"):
 * - no import cycles: none at all in product code, none at run time in the sandbox;
 * - nothing in src/ imports upward into the chat platforms (src/chat/), the commands
 *   (src/commands/) or the job bodies (jobs/), except the composition roots that wire them;
 * - job bodies do not import the queue runtime they are registered with.
 */
const COMPOSITION_ROOTS = [/^src\/app\.ts$/, /^src\/cli\//, /^src\/queue\/workers\.ts$/, /^src\/chat\/discord\/run-discord\.ts$/];
const UPPER = [/^src\/chat\//, /^src\/commands\//, /^jobs\//];
const QUEUE_RUNTIME = [/^src\/queue\/(workers|producer|scheduled|lazy-queue|apply-queue)\.ts$/];

async function graph(skipTypeImports: boolean) {
  const res = await madge(['src', 'jobs'], {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.json',
    detectiveOptions: { ts: { skipTypeImports }, tsx: { skipTypeImports } },
  });
  return res;
}

describe('architecture', () => {
  it('GIVEN every import THEN there is no cycle in product code, and none at run time in the sandbox', async () => {
    const all = await graph(false);
    expect(Object.keys(all.obj()).length).toBeGreaterThan(150);
    const product = all.circular().filter((cycle) => !cycle.every((f) => f.startsWith('src/sandbox/')));
    expect(product).toEqual([]);
    const runtime = (await graph(true)).circular();
    expect(runtime).toEqual([]);
  }, 120_000);

  it('GIVEN a file in src/ THEN it imports nothing above it (chat platforms, commands, jobs), unless it is a composition root', async () => {
    const obj = (await graph(false)).obj();
    const upward: string[] = [];
    for (const [file, deps] of Object.entries(obj)) {
      if (!file.startsWith('src/') || file.startsWith('src/sandbox/') || COMPOSITION_ROOTS.some((r) => r.test(file))) continue;
      const own = UPPER.find((r) => r.test(file));
      for (const dep of deps) {
        const layer = UPPER.find((r) => r.test(dep));
        if (layer && layer !== own) upward.push(`${file} -> ${dep}`);
      }
    }
    expect(upward).toEqual([]);
    const jobsOnRuntime = Object.entries(obj)
      .filter(([file]) => file.startsWith('jobs/'))
      .flatMap(([file, deps]) => deps.filter((d) => QUEUE_RUNTIME.some((r) => r.test(d))).map((d) => `${file} -> ${d}`));
    expect(jobsOnRuntime).toEqual([]);
  }, 120_000);
});
