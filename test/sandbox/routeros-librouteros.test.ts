import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { labgateRuleComment, seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';

const run = promisify(execFile);

// Debian's python3-librouteros installs for the system interpreter, which a pyenv shim may hide.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** An independent client (Debian's python3-librouteros): login, print, query, add, trap, remove. */
const SCRIPT = String.raw`
import json, ssl, sys
import librouteros
from librouteros.query import Key
from librouteros.exceptions import TrapError

host, port, user, password, tls_port, cafile = sys.argv[1:7]
out = {}

try:
    librouteros.connect(host=host, port=int(port), username=user, password='wrong')
    out['bad_login'] = 'accepted'
except TrapError as e:
    out['bad_login'] = e.message

api = librouteros.connect(host=host, port=int(port), username=user, password=password)
nat = api.path('ip', 'firewall', 'nat')
out['all'] = list(nat)
out['labgate'] = list(nat.select(Key('.id'), Key('comment'), Key('dst-port')).where(Key('comment') == sys.argv[7]))
out['not_udp'] = sorted(r['comment'] for r in nat.select(Key('comment'), Key('protocol')).where(Key('protocol') != 'udp'))
out['either'] = sorted(r['comment'] for r in nat.select(Key('comment'), Key('dst-port')).where(Key('dst-port').In('80', '443')))
out['empty'] = list(nat.select(Key('comment')).where(Key('comment') == 'matches-nothing'))
new_id = nat.add(chain='dstnat', action='dst-nat', protocol='udp', **{'dst-port': '41623', 'to-addresses': '192.168.10.23', 'to-ports': '41623', 'comment': 'from-python', 'disabled': False})
out['added'] = new_id
out['added_row'] = list(nat.select(Key('.id'), Key('disabled'), Key('dst-port')).where(Key('.id') == new_id))
nat.update(**{'.id': new_id, 'to-ports': '41624'})
try:
    nat.remove('*FFFF')
    out['bad_remove'] = 'accepted'
except TrapError as e:
    out['bad_remove'] = e.message
nat.remove(new_id)
out['after_remove'] = [r['.id'] for r in nat if r['.id'] == new_id]
api.close()

ctx = ssl.create_default_context(cafile=cafile)
tls_api = librouteros.connect(host=host, port=int(tls_port), username=user, password=password, ssl_wrapper=lambda s: ctx.wrap_socket(s, server_hostname=host))
out['tls_identity'] = list(tls_api.path('system', 'identity'))[0]['name']
tls_api.close()
print(json.dumps(out))
`;

describe('RouterOS sandbox through python3-librouteros', () => {
  let state: RouterState;
  let sandbox: RouterOsSandbox;
  let dir: string;
  let cafile: string;

  beforeAll(async () => {
    const { stderr, stdout } = await run(PYTHON, ['-c', 'import librouteros; print(librouteros.__file__)']).catch((err) => err);
    if (!String(stdout).includes('librouteros')) {
      throw new Error(`python3-librouteros is required for this test (apt-get install -y python3-librouteros): ${stderr}`);
    }
    state = seedRouterState(defaultHomelab());
    sandbox = await startRouterOsSandbox({ state, tls: true });
    dir = await mkdtemp(join(tmpdir(), 'labgate-ros-'));
    cafile = join(dir, 'ca.pem');
    await writeFile(cafile, sandbox.tlsCertificatePem!);
  });
  afterAll(async () => {
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs in, prints, queries, adds, updates and removes a rule, over plain and TLS', async () => {
    const node21 = defaultHomelab().nodes[0]!;
    const { stdout } = await run(
      PYTHON,
      ['-c', SCRIPT, sandbox.host, String(sandbox.port), sandbox.user, sandbox.password, String(sandbox.tlsPort), cafile, labgateRuleComment(node21)],
      { timeout: 20_000 },
    );
    const out = JSON.parse(stdout);
    expect(out.bad_login).toBe('invalid user name or password (6)');
    expect(out.all).toHaveLength(state.nat.length);
    expect(out.all[0]).toMatchObject({ '.id': state.nat[0]!['.id'], chain: 'srcnat', action: 'masquerade', disabled: false });
    const rule21 = state.nat.find((r) => r.comment === labgateRuleComment(node21))!;
    expect(out.labgate).toEqual([{ '.id': rule21['.id'], comment: rule21.comment, 'dst-port': node21.tailscalePort }]);
    expect(out.not_udp).toEqual(['defconf: masquerade', 'web-http', 'web-https']);
    expect(out.either).toEqual(['web-http', 'web-https']);
    expect(out.empty).toEqual([]);
    expect(out.added).toMatch(/^\*[0-9A-F]+$/);
    expect(out.added_row).toEqual([{ '.id': out.added, disabled: false, 'dst-port': 41623 }]);
    expect(out.bad_remove).toBe('no such item');
    expect(out.after_remove).toEqual([]);
    expect(out.tls_identity).toBe(state.identity);
    expect(sandbox.rules().some((r) => r.comment === 'from-python')).toBe(false);
  });
});
