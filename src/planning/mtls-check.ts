import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { OutMessage } from '../messages/message.js';
import type { CommandContext } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { requireOpenBao } from './cert.js';
import { deviceUrn, profileUrn } from '../openbao/device-identity.js';
import { hasGate } from '../traefik/routes.js';
import { qualifyHost, readRouting } from '../traefik/planning.js';

type Answer = { status: number; body: string } | { error: string };

/** One HTTPS GET to the host as a phone makes it (SNI and Host), through `via` when given. */
function get(host: string, via: URL, ca: string | undefined, cert?: { certPem: string; keyPem: string }): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      { host: via.hostname, port: via.port || 443, servername: host, path: '/', headers: { host }, agent: false, timeout: 5000, ...(ca ? { ca } : {}), ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8').slice(0, 500)));
        res.on('end', () => resolve({ status: res.statusCode!, body: body.trim().slice(0, 200) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });
}

const show = (a: Answer) => ('error' in a ? `connection refused or cut (${a.error})` : `HTTP ${a.status}${a.body ? `: ${a.body}` : ''}`);

/**
 * /mtls-check: through the edge (or the host's public address) with a throwaway device
 * certificate: does the handshake demand a certificate, does a valid one get through, is the
 * same one refused once revoked, does the gate answer. Read-only for the user: the throwaway
 * certificate is revoked whatever happens.
 */
export async function mtlsCheck(hostOption: string, ctx: CommandContext): Promise<OutMessage> {
  const host = qualifyHost(hostOption, ctx.config.domain);
  const bao = requireOpenBao(ctx);
  const exposure = (await readRouting(ctx.ports.kubernetes)).exposures.get(host);
  if (!exposure) throw new UserError(UserErrorCode.NotFound, `${host} is not exposed by labgate; /route list shows what is`);
  if (exposure.mode !== 'mtls-strict') throw new UserError(UserErrorCode.InvalidInput, `host: ${host} is ${exposure.mode}, not mtls-strict; /mtls-check checks client-certificate hosts only`);
  const via = new URL(ctx.config.env.LABGATE_MTLS_CHECK_VIA ?? `https://${host}`);
  const ca = ctx.config.env.LABGATE_MTLS_CHECK_CA ? readFileSync(ctx.config.env.LABGATE_MTLS_CHECK_CA, 'utf8') : undefined;
  const gateInRoute = hasGate(exposure.objects);
  const rows: [string, string, string][] = [];
  const mark = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'ok' : 'PROBLEM');

  ctx.progress?.('connecting without a certificate');
  const bare = await get(host, via, ca);
  rows.push(['handshake demands a client certificate', mark('error' in bare), 'error' in bare ? 'refused without one' : `answered without one: ${show(bare)}`]);

  ctx.progress?.('issuing a throwaway device certificate');
  const key = ctx.config.openbao?.deviceKey ?? { type: 'rsa' as const, bits: 2048 };
  const issued = await bao.issue(ctx.config.openbao?.roles.device ?? 'device', {
    commonName: 'mtls-check',
    uriSans: [deviceUrn({ platform: 'shell', id: 'labgate-mtls-check' }, 'mtls-check'), profileUrn('csr')],
    ttlSeconds: 900,
    keyType: key.type,
    keyBits: key.bits,
  });
  let revoked = false;
  try {
    const cert = { certPem: issued.certificatePem, keyPem: issued.privateKeyPem };
    const valid = await get(host, via, ca, cert);
    const allowList = !('error' in valid) && valid.status === 403 && valid.body.includes('not allowed on this host');
    rows.push([
      'a valid device certificate gets through',
      allowList ? mark(undefined) : mark(!('error' in valid) && valid.status < 400),
      allowList ? 'the host admits only its allow list, which the check’s certificate is not on (the gate said so)' : show(valid),
    ]);

    ctx.progress?.('revoking it and asking again');
    const { revokedAt } = await bao.revoke(issued.serial);
    revoked = true;
    await bao.rotateCrl();
    await ctx.pushRevocation?.(issued.serial, revokedAt ?? ctx.now());
    const started = Date.now();
    let after: Answer = { error: 'not asked' };
    for (;;) {
      after = await get(host, via, ca, cert);
      if (!('error' in after) && after.status === 403 && after.body.startsWith('certificate revoked')) break;
      if (Date.now() - started > 5000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const refused = !('error' in after) && after.status === 403 && after.body.startsWith('certificate revoked');
    rows.push([
      'a revoked certificate is refused',
      mark(refused),
      refused ? `refused ${Date.now() - started < 1000 ? 'within 1 s' : `after ${Math.round((Date.now() - started) / 1000)} s`}: ${show(after)}` : `still ${show(after)} 5 s after the revocation`,
    ]);
    const gateSpoke = refused || allowList;
    rows.push([
      'the gate answers',
      mark(gateSpoke),
      gateSpoke
        ? 'yes (its refusals name the reason)'
        : gateInRoute
          ? 'no answer from the gate: is labgate gate running, and does Traefik reach it (gate.address, NetworkPolicy)?'
          : `the route has no gate Middleware (removed by hand?), so Traefik never asks it and revoked certificates get in: /route upgrade host:${hostOption} proposes adding it back`,
    ]);
  } finally {
    if (!revoked) await bao.revoke(issued.serial).catch(() => {});
  }
  const problems = rows.filter((r) => r[1] === 'PROBLEM').length;
  return {
    kind: 'report',
    text: problems ? `mTLS check of https://${host}: ${problems} problem${problems === 1 ? '' : 's'}` : `mTLS check of https://${host}: OK`,
    lines: [`Checked through ${via.origin} with a throwaway device certificate (serial ${issued.serial}), revoked after the check.`],
    table: { columns: ['check', 'result', 'detail'], rows },
  };
}
