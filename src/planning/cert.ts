import { untrusted } from '../messages/untrusted.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import type { Config } from '../config/load.js';
import { AccessPolicy } from '../core/access.js';
import { formatDuration, iso } from '../duration.js';
import { UserError, UserErrorCode } from '../errors.js';
import type { Change, Identity } from '../plan/model.js';
import { readCsr, type CsrSummary } from '../pki/csr.js';
import type { Pkcs12Profile } from '../pki/pkcs12-profile.js';
import { deviceUrn, displayOwner, ownerOf, profileUrn, sameOwner, type DeliveryProfile, type DeviceOwner, type Platform } from '../openbao/device-identity.js';
import { DeviceInventory, type DeviceCertificate } from '../openbao/device-inventory.js';
import type { OpenBaoPort } from '../openbao/port.js';
import { certTarget, deviceTarget, liveOf, type DeviceCertificateSpec } from '../openbao/certificate-changes.js';

export function requireOpenBao(ctx: Pick<CommandContext, 'ports'>): OpenBaoPort {
  if (!ctx.ports.openbao)
    throw new UserError(UserErrorCode.Unavailable, 'OpenBao is not configured: add an openbao block to labgate.yaml and set BAO_ADDR (and BAO_TOKEN or AppRole credentials)');
  return ctx.ports.openbao;
}

// No real requester is this one: mayApprove() then answers whether `who` is an approver at all.
const NOBODY: Identity = { platform: 'shell', id: '\u0000nobody', name: 'nobody', roles: [] };

/** Whether `who` is among the approvers of `command` (declared in access, as for any command). */
export function isApprover(config: Config, command: string, who: Identity): boolean {
  return new AccessPolicy(config).mayApprove(command, who, NOBODY) === null;
}

/**
 * Whose device a command is about: the requester's own, or `for:` someone else's, which only
 * approvers of the command may name. `asked`: the command typed, when its rights are those of
 * another (/cert list follows /cert issue), so a refusal names both.
 */
export function resolveOwner(ctx: CommandContext, command: string, forValue: string | undefined, asked = command): { owner: DeviceOwner; self: boolean } {
  const me = ctx.requester;
  if (forValue === undefined) return { owner: { platform: me.platform, id: me.id, name: me.name }, self: true };
  const platform = me.platform;
  if (platform === 'discord' && !/^\d{17,20}$/.test(forValue))
    throw new UserError(UserErrorCode.InvalidInput, `for: must be a Discord user (pick one from the list); got ${forValue}`);
  if (platform === 'shell' && !ctx.config.shell.users.includes(forValue))
    throw new UserError(UserErrorCode.NotFound, `for: ${forValue} is not a shell user (shell.users: ${ctx.config.shell.users.join(', ') || 'none'})`);
  // A Discord option carries the user's id only; mentions render the name.
  const owner: DeviceOwner = { platform, id: forValue, name: forValue };
  if (sameOwner(owner, me)) return { owner: { ...owner, name: me.name }, self: true };
  if (!isApprover(ctx.config, command, me))
    throw new UserError(
      UserErrorCode.Denied,
      asked === command
        ? `only approvers of /${command} may act for someone else (for:); leave for: out to act for yourself`
        : `/${asked} for: someone else is for approvers of /${command} only; leave for: out to see your own`,
    );
  return { owner, self: false };
}

export function validTtl(ctx: CommandContext, ttlMs: number | undefined): number {
  const bao = ctx.config.openbao!;
  const ttl = ttlMs ?? bao.deviceTtl;
  if (ttl > bao.maxDeviceTtl) throw new UserError(UserErrorCode.InvalidInput, `ttl: at most ${formatDuration(bao.maxDeviceTtl)} (openbao.maxDeviceTtl); got ${formatDuration(ttl)}`);
  return Math.floor(ttl / 1000);
}

/** A device's valid certificates, refusing a second one unless it replaces the earlier. */
async function currentCertificates(inventory: DeviceInventory, owner: DeviceOwner, device: string, replace: boolean): Promise<DeviceCertificate[]> {
  const valid = (await inventory.forDevice(owner, device)).filter((c) => c.status === 'valid');
  if (valid.length && !replace) {
    const c = valid[0]!;
    throw new UserError(
      UserErrorCode.Conflict,
      `${displayOwner(owner)}'s ${device} already has a valid certificate (serial ${c.serial}, expires ${iso(c.notAfter)}); revoke it first (/cert revoke device:${device}) or replace it (replace:true)`,
    );
  }
  return valid;
}

function revokeChange(c: DeviceCertificate, why: string): Change {
  const before = liveOf(c);
  return {
    system: 'openbao',
    action: 'revoke',
    target: certTarget(c.serial),
    before,
    after: { ...before, status: 'revoked' },
    summary: `revoke certificate ${c.serial} (${displayOwner(c.owner)}'s ${c.device}, expires ${before.expires})${why}`,
  };
}

function deviceChange(action: 'issue' | 'sign', spec: DeviceCertificateSpec, replaced: DeviceCertificate[]): Change {
  const what = action === 'issue' ? `issue a ${spec.key} certificate, ${spec.profile} bundle` : `sign the ${spec.key} CSR`;
  return {
    system: 'openbao',
    action,
    target: deviceTarget(spec.owner, spec.device),
    before: replaced.length ? liveOf(replaced[0]!) : null,
    after: spec,
    summary: `${what} for ${displayOwner(spec.owner)}'s ${spec.device} (${spec.lifetime}, role ${spec.role}), delivered by DM`,
  };
}

function selfService(ctx: CommandContext, self: boolean): PlanDraft['autoApprove'] {
  return self && ctx.config.openbao!.selfService ? { reason: 'self-service: a certificate for your own device (openbao.selfService)' } : undefined;
}

/** What the issue and sign planners share: the certificate's spec, its changes and self-service. */
function deviceDraft(
  ctx: CommandContext,
  d: {
    action: 'issue' | 'sign';
    owner: DeviceOwner;
    self: boolean;
    device: string;
    ttlSeconds: number;
    replaced: DeviceCertificate[];
    profile: DeviceCertificateSpec['profile'];
    key: string;
    delivery: string;
    csr?: DeviceCertificateSpec['csr'];
    summary: string;
    notes: string[];
  },
): PlanDraft {
  const spec: DeviceCertificateSpec = {
    device: d.device,
    owner: d.owner,
    subject: `CN=${d.device}`,
    uriSans: [deviceUrn(d.owner, d.device), profileUrn(d.profile)],
    role: ctx.config.openbao!.roles.device,
    lifetime: formatDuration(d.ttlSeconds * 1000),
    ttlSeconds: d.ttlSeconds,
    key: d.key,
    profile: d.profile,
    delivery: d.delivery,
    requestedBy: ownerOf(ctx.requester),
    ...(d.csr ? { csr: d.csr } : {}),
    ...(d.replaced.length ? { replaces: d.replaced[0]!.serial } : {}),
  };
  const changes = [deviceChange(d.action, spec, d.replaced), ...d.replaced.map((c) => revokeChange(c, ', once the new one is delivered'))];
  const autoApprove = selfService(ctx, d.self);
  return {
    summary: [d.summary, ...changes.map((c) => c.summary)],
    changes,
    notes: [...d.notes, ...(autoApprove ? [`No approval needed: ${autoApprove.reason}.`] : [])],
    ...(autoApprove ? { autoApprove } : {}),
  };
}

export interface IssueOptions {
  device: string;
  profile?: Pkcs12Profile;
  ttl?: number;
  for?: string;
  replace?: boolean;
}

/** `/cert issue`: one issue change (and a revoke of the replaced serial after delivery). */
export async function planIssue(opts: IssueOptions, ctx: CommandContext, command = 'cert issue'): Promise<PlanDraft> {
  const bao = requireOpenBao(ctx);
  const cfg = ctx.config.openbao!;
  const { owner, self } = resolveOwner(ctx, command, opts.for);
  const ttlSeconds = validTtl(ctx, opts.ttl);
  const replaced = await currentCertificates(new DeviceInventory(bao, ctx.now), owner, opts.device, opts.replace ?? false);
  // A replacement keeps the format the device took last time unless told otherwise.
  const previous = replaced[0]?.profile;
  const profile = opts.profile ?? (previous && previous !== 'csr' ? previous : cfg.defaultProfile);
  const lifetime = formatDuration(ttlSeconds * 1000);
  return deviceDraft(ctx, {
    action: 'issue',
    owner,
    self,
    device: opts.device,
    ttlSeconds,
    replaced,
    profile,
    key: `${cfg.deviceKey.type}-${cfg.deviceKey.bits}`,
    delivery: `DM to ${displayOwner(owner)}: ${opts.device}.p12 and the CA chain, the passphrase in a separate message`,
    summary: `${replaced.length ? 'Replace' : 'Issue'} a client certificate for ${displayOwner(owner)}'s ${opts.device}: CN=${opts.device}, valid ${lifetime}, ${profile} bundle`,
    notes: [
      `The owner is in the certificate as the URI ${deviceUrn(owner, opts.device)} (Traefik forwards it with the SANs).`,
      ...(opts.replace && !replaced.length ? [`${opts.device} had no valid certificate: nothing to replace.`] : []),
    ],
  });
}

export interface SignOptions {
  device: string;
  csr: string;
  ttl?: number;
  for?: string;
  replace?: boolean;
}

/** `/cert sign`: signs a CSR made on the device; the key never leaves it. */
export async function planSign(opts: SignOptions, ctx: CommandContext, command = 'cert sign'): Promise<PlanDraft> {
  const bao = requireOpenBao(ctx);
  const { owner, self } = resolveOwner(ctx, command, opts.for);
  const ttlSeconds = validTtl(ctx, opts.ttl);
  if (!ctx.ports.csr) throw new UserError(UserErrorCode.Unavailable, 'this worker cannot read attachments');
  let csr: CsrSummary;
  try {
    csr = await readCsr(await ctx.ports.csr.read(opts.csr, ctx.requester));
  } catch (err) {
    throw new UserError(UserErrorCode.InvalidInput, `csr: ${(err as Error).message}`);
  }
  const replaced = await currentCertificates(new DeviceInventory(bao, ctx.now), owner, opts.device, opts.replace ?? false);
  return deviceDraft(ctx, {
    action: 'sign',
    owner,
    self,
    device: opts.device,
    ttlSeconds,
    replaced,
    profile: 'csr',
    key: csr.key,
    delivery: `DM to ${displayOwner(owner)}: ${opts.device}.crt and the CA chain`,
    csr: { pem: csr.pem, subject: csr.subject, keySha256: csr.keySha256 },
    summary: `Sign ${displayOwner(owner)}'s CSR for ${opts.device} (${csr.key}, key sha256 ${csr.keySha256.slice(0, 16)}…): CN=${opts.device}, valid ${formatDuration(ttlSeconds * 1000)}`,
    notes: [`The CSR's own subject (${untrusted(csr.subject, 200)}) and names are not used: labgate names the certificate CN=${opts.device} with the owner URI ${deviceUrn(owner, opts.device)}.`],
  });
}

export interface RevokeOptions {
  device?: string;
  serial?: string;
  for?: string;
}

/** `/cert revoke`: by device (its valid certificates) or by serial. Owners revoke their own; approvers anyone's. */
export async function planRevoke(opts: RevokeOptions, ctx: CommandContext, command = 'cert revoke'): Promise<PlanDraft> {
  const bao = requireOpenBao(ctx);
  if (!opts.device === !opts.serial) throw new UserError(UserErrorCode.InvalidInput, '/cert revoke: give either device: or serial:');
  const inventory = new DeviceInventory(bao, ctx.now);
  let targets: DeviceCertificate[];
  if (opts.serial) {
    if (opts.for !== undefined) throw new UserError(UserErrorCode.InvalidInput, '/cert revoke: for: goes with device:, not serial:');
    const c = await inventory.bySerial(opts.serial);
    if (!c) throw new UserError(UserErrorCode.NotFound, `no labgate device certificate has serial ${opts.serial}; /cert list shows them`);
    if (!sameOwner(c.owner, ctx.requester) && !isApprover(ctx.config, command, ctx.requester))
      throw new UserError(UserErrorCode.Denied, `certificate ${c.serial} belongs to ${displayOwner(c.owner)}; only its owner or an approver may revoke it`);
    if (c.status !== 'valid') throw new UserError(UserErrorCode.NothingToDo, `certificate ${c.serial} is already ${c.status}; nothing to revoke`);
    targets = [c];
  } else {
    const { owner } = resolveOwner(ctx, command, opts.for);
    targets = (await inventory.forDevice(owner, opts.device!)).filter((c) => c.status === 'valid');
    if (!targets.length) throw new UserError(UserErrorCode.NothingToDo, `${displayOwner(owner)}'s ${opts.device} has no valid certificate; nothing to revoke`);
  }
  const changes = targets.map((c) => revokeChange(c, ''));
  return {
    summary: [`Revoke ${targets.length} certificate${targets.length === 1 ? '' : 's'} and publish the CRL`, ...changes.map((c) => c.summary)],
    changes,
    notes: [
      // traefik/traefik#3433: TLSOption clientAuth has no CRL check.
      'Traefik does not check CRLs: until it expires, a revoked certificate still passes mtls-strict at Traefik. Backends get the serial (passTLSClientCert) and can refuse what the CRL lists.',
    ],
  };
}

