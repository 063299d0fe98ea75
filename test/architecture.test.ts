import { readFileSync } from 'node:fs';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

/**
 * The layout's rules, checked on every run (docs: README "How it works"):
 * - no import cycles: none at all in product code, none at run time in the sandbox;
 * - nothing in src/ imports upward into the chat platforms (src/chat/), the commands
 *   (src/commands/) or the job bodies (jobs/), except the composition roots that wire them;
 * - job bodies do not import the queue runtime they are registered with;
 * - per outside system (src/kubernetes, openbao, router, tailscale, traefik) and in the plan,
 *   policy and PKI models: ports, adapters, appliers and their domain rules only; the command
 *   logic that uses them lives in src/planning/ and src/commands/, and only there (and in the
 *   command framework, src/core/) is a CommandContext taken;
 * - the sandbox (sandbox/, the embedded homelab) is reached only from the command line's
 *   composition root (src/cli/), and it imitates the outside systems without the bot's upper
 *   layers: it imports no chat, command, job, queue or store.
 */
const COMPOSITION_ROOTS = [/^src\/app\.ts$/, /^src\/cli\//, /^src\/queue\/workers\.ts$/, /^src\/chat\/discord\/run-discord\.ts$/];
const UPPER = [/^src\/chat\//, /^src\/commands\//, /^jobs\//];
const SYSTEMS = /^src\/(kubernetes|openbao|router|tailscale|traefik|plan|policy|pki)\//;
const COMMAND_LOGIC = [...UPPER, /^src\/planning\//, /^src\/core\//];
const SANDBOX_USERS = [/^src\/cli\//];
const NOT_FOR_SANDBOX = [...UPPER, /^src\/queue\//, /^src\/stores\//];
const QUEUE_RUNTIME = [/^src\/queue\/(workers|producer|scheduled|lazy-queue|apply-queue)\.ts$/];

async function graph(skipTypeImports: boolean) {
  const res = await madge(['src', 'jobs', 'sandbox'], {
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
    const product = all.circular().filter((cycle) => !cycle.every((f) => f.startsWith('sandbox/')));
    expect(product).toEqual([]);
    const runtime = (await graph(true)).circular();
    expect(runtime).toEqual([]);
  }, 120_000);

  it('GIVEN a file in src/ THEN it imports nothing above it (chat platforms, commands, jobs), unless it is a composition root', async () => {
    const obj = (await graph(false)).obj();
    const upward: string[] = [];
    for (const [file, deps] of Object.entries(obj)) {
      if (!file.startsWith('src/') || COMPOSITION_ROOTS.some((r) => r.test(file))) continue;
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

  it('GIVEN a system folder THEN it holds no command logic and imports none: commands are planned in src/planning/ and src/commands/', async () => {
    const obj = (await graph(false)).obj();
    const systemFiles = Object.keys(obj).filter((f) => SYSTEMS.test(f));
    expect(systemFiles.length).toBeGreaterThan(40);
    const upward = systemFiles.flatMap((file) => obj[file]!.filter((d) => COMMAND_LOGIC.some((r) => r.test(d))).map((d) => `${file} -> ${d}`));
    expect(upward).toEqual([]);
    const takesContext = Object.keys(obj)
      .filter((f) => f.startsWith('src/') && !COMMAND_LOGIC.some((r) => r.test(f)))
      .filter((f) => /\bCommandContext\b/.test(readFileSync(f, 'utf8')));
    expect(takesContext).toEqual([]);
  }, 120_000);

  it('GIVEN the sandbox THEN only the command line reaches it, and it imports none of the bot\'s upper layers', async () => {
    const obj = (await graph(false)).obj();
    const intoSandbox = Object.entries(obj)
      .filter(([file]) => !file.startsWith('sandbox/') && !SANDBOX_USERS.some((r) => r.test(file)))
      .flatMap(([file, deps]) => deps.filter((d) => d.startsWith('sandbox/')).map((d) => `${file} -> ${d}`));
    expect(intoSandbox).toEqual([]);
    const sandboxFiles = Object.keys(obj).filter((f) => f.startsWith('sandbox/'));
    expect(sandboxFiles.length).toBeGreaterThan(50);
    const upward = sandboxFiles.flatMap((file) => obj[file]!.filter((d) => NOT_FOR_SANDBOX.some((r) => r.test(d))).map((d) => `${file} -> ${d}`));
    expect(upward).toEqual([]);
  }, 120_000);
});
