#!/usr/bin/env -S node --max-semi-space-size=1 --max-old-space-size=192
// Runs the compiled CLI; `npm ci` builds it (the package's prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// The shebang's flags: a chat bot idles most of the time, and a small young generation keeps it
// 10–20 MB smaller at the price of more, cheaper scavenges; a capped old generation makes V8
// collect before it grows (labgate's largest live heap measured: ~65 MB, a 10,000-certificate
// expiry scan), so a burst of garbage cannot push a 256 MiB container into the OOM killer.

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('labgate: not built yet; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`labgate: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
