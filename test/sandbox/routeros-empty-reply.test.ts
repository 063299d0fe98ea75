import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { seedRouterState } from '../../sandbox/routeros/router-state.js';

const run = promisify(execFile);

/**
 * Runs raw node-routeros in a child process, so the exception it throws from a socket
 * handler cannot take the test runner down. The child reports what happened as JSON.
 */
const CHILD = String.raw`
const { RouterOSAPI, Channel } = require('node-routeros');
const [host, port, user, password, patch] = process.argv.slice(1);
const out = { uncaught: null, emptyPrint: 'pending', laterCommand: 'pending' };
process.on('uncaughtException', (err) => {
  out.uncaught = { name: err.name, errno: err.errno, message: err.message };
});
if (patch === 'patched') {
  const original = Channel.prototype.processPacket;
  Channel.prototype.processPacket = function (packet) {
    if (packet[0] === '!empty') return;
    return original.call(this, packet);
  };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Waits for an answer, up to 2 s: long enough for a loaded machine, short enough that
// 'pending' afterwards means the promise is stuck, not slow.
const settle = async (key) => {
  for (let waited = 0; out[key] === 'pending' && waited < 2000; waited += 10) await sleep(10);
};
(async () => {
  const api = new RouterOSAPI({ host, port: Number(port), user, password, timeout: 5 });
  api.on('error', () => {});
  await api.connect();
  api.write('/ip/firewall/nat/print', ['?comment=matches-nothing']).then(
    (rows) => { out.emptyPrint = 'resolved:' + JSON.stringify(rows); },
    (err) => { out.emptyPrint = 'rejected:' + err.message; },
  );
  await settle('emptyPrint');
  api.write('/system/identity/print').then(
    (rows) => { out.laterCommand = 'resolved:' + rows[0].name; },
    (err) => { out.laterCommand = 'rejected:' + err.message; },
  );
  await settle('laterCommand');
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
})().catch((err) => { process.stdout.write(JSON.stringify({ fatal: String(err) })); process.exit(1); });
`;

describe('node-routeros against the !empty reply of RouterOS 7.18+', () => {
  let sandbox: RouterOsSandbox;
  const child = async (mode: 'unpatched' | 'patched') => {
    const { stdout } = await run(process.execPath, ['-e', CHILD, sandbox.host, String(sandbox.port), sandbox.user, sandbox.password, mode], {
      cwd: process.cwd(),
      timeout: 15_000,
    });
    return JSON.parse(stdout) as { uncaught: { name: string; errno: string; message: string } | null; emptyPrint: string; laterCommand: string };
  };

  beforeAll(async () => {
    sandbox = await startRouterOsSandbox({ state: seedRouterState(defaultHomelab()) });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('GIVEN an empty print WHEN node-routeros reads !empty THEN it throws UNKNOWNREPLY uncaught, the print never settles and the connection is wedged', async () => {
    const result = await child('unpatched');
    expect(result.uncaught).toEqual({ name: 'RosException', errno: 'UNKNOWNREPLY', message: 'Tried to process unknown reply: !empty' });
    expect(result.emptyPrint).toBe('pending');
    expect(result.laterCommand).toBe('pending');
  });

  it('GIVEN Channel.processPacket ignores !empty WHEN the same print runs THEN it resolves to [] and the connection keeps working', async () => {
    const result = await child('patched');
    expect(result).toEqual({ uncaught: null, emptyPrint: 'resolved:[]', laterCommand: `resolved:${'labgate-sandbox-router'}` });
  });
});
