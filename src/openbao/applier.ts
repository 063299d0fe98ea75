import type { Redis } from 'ioredis';
import type { ConversationRef, OutMessage } from '../messages/message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../messages/notifier.js';
import type { Config } from '../config/load.js';
import { DiscordError, UserError, UserErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ApplyContext, SystemApplier } from '../plan/applier.js';
import type { Change, Identity } from '../plan/model.js';
import { clientCertificateProblems } from '../pki/issued-certificate-check.js';
import { generatePassphrase } from '../pki/passphrase.js';
import { buildPkcs12 } from '../pki/pkcs12-bundle.js';
import type { Pkcs12Profile } from '../pki/pkcs12-profile.js';
import type { RedisKeys } from '../stores/redis.js';
import { certTarget, deviceTarget, liveOf, type DeviceCertificateSpec, type LiveDeviceCertificate } from './certificate-changes.js';
import { iso } from '../duration.js';
import { bundleDm, certificateDm, dmRefusedAdvice } from '../messages/device-delivery.js';
import { deviceUrn, displayOwner, profileUrn, sameOwner, type DeviceOwner } from './device-identity.js';
import { DeviceInventory } from './device-inventory.js';
import type { OpenBaoPort } from './port.js';

export interface OpenBaoApplierDeps {
  bao: OpenBaoPort;
  notifier: ChatNotifier;
  config: Config;
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  now: () => number;
}

/** Delivery failed after issuance: final (the certificate was revoked), not retried. */
export class DeliveryError extends DiscordError {
  override get transient(): boolean {
    return false;
  }
}

const refuse = (message: string) => new UserError(UserErrorCode.Policy, message);

/** What the journal holds for a device target while a certificate is on its way: no secret, a serial at most. */
interface Journal {
  state: 'issuing' | 'issued';
  at: number;
  serial?: string;
}

const JOURNAL_TTL_S = 30 * 24 * 3600;
// OpenBao backdates notBefore by 30 s (role not_before_duration).
const NOT_BEFORE_SLACK_MS = 120_000;

const identityOf = (o: DeviceOwner): Identity => ({ platform: o.platform, id: o.id, name: o.name, roles: [] });
const mentionIds = (...owners: DeviceOwner[]) => [...new Set(owners.filter((o) => o.platform === 'discord').map((o) => o.id))];

/**
 * Applies OpenBao changes: `issue` (key, certificate, PKCS#12 bundle, DM to the owner),
 * `sign` (a CSR, certificate by DM) and `revoke` (then the CRL is published). The key, bundle
 * and passphrase exist only in this function's memory and in the DM. A certificate that
 * cannot be delivered is revoked at once, and a journal in Redis (serial only) lets a later
 * attempt revoke one whose delivery a crash cut short: no valid certificate is left whose
 * key nobody holds, and none is delivered twice.
 */
export class OpenBaoApplier implements SystemApplier {
  constructor(private readonly d: OpenBaoApplierDeps) {}

  private inventory() {
    return new DeviceInventory(this.d.bao, this.d.now);
  }

  async read(change: Change): Promise<unknown> {
    switch (change.action) {
      case 'issue':
      case 'sign':
        return this.readDevice(change);
      case 'revoke': {
        const { serial } = change.before as LiveDeviceCertificate;
        const cert = await this.inventory().bySerial(serial);
        return cert ? liveOf(cert) : null;
      }
      default:
        throw new Error(`the OpenBao applier cannot ${change.action} ${change.target}`);
    }
  }

  /**
   * Its own guard, whatever the plan says: a certificate only for the owner and device the
   * signed change names, with labgate's URNs for them, on the device role; a revocation only of
   * a labgate device certificate.
   */
  check(change: Change): void {
    if (change.action === 'issue' || change.action === 'sign') {
      const spec = change.after as DeviceCertificateSpec;
      if (!spec?.owner || !spec.device) throw refuse(`change ${change.target} names no device owner`);
      if (change.target !== deviceTarget(spec.owner, spec.device)) throw refuse(`change ${change.target} would issue for ${displayOwner(spec.owner)}'s ${spec.device}`);
      const allowed = [deviceUrn(spec.owner, spec.device), profileUrn(spec.profile)];
      if (spec.uriSans.length !== 2 || !spec.uriSans.every((u) => allowed.includes(u))) throw refuse(`the certificate for ${displayOwner(spec.owner)}'s ${spec.device} would carry names other than its owner's (${spec.uriSans.join(', ')})`);
      if (spec.role !== this.d.config.openbao?.roles.device) throw refuse(`device certificates come only from the role ${this.d.config.openbao?.roles.device}; refused role ${spec.role}`);
      return;
    }
    if (change.action === 'revoke') {
      const before = change.before as LiveDeviceCertificate;
      if (!before?.serial || change.target !== certTarget(before.serial)) throw refuse(`change ${change.target} names no certificate to revoke`);
      return;
    }
    throw refuse(`the OpenBao applier cannot ${change.action} ${change.target}`);
  }

  async apply(change: Change, ctx?: ApplyContext): Promise<void> {
    this.check(change);
    switch (change.action) {
      case 'issue':
      case 'sign':
        return this.deliverNew(change, ctx?.plan.conversation);
      case 'revoke': {
        const before = change.before as LiveDeviceCertificate;
        const cert = await this.inventory().bySerial(before.serial);
        // Only labgate's device certificates, and only the one whose owner the plan named.
        if (!cert || !sameOwner(cert.owner, before.owner)) throw refuse(`certificate ${before.serial} is not ${displayOwner(before.owner)}'s labgate device certificate; labgate will not revoke it`);
        const { revokedAt } = await this.d.bao.revoke(before.serial);
        await this.d.bao.rotateCrl();
        await this.pushToGates(before.serial, revokedAt ?? this.d.now());
        return;
      }
      default:
        throw new Error(`the OpenBao applier cannot ${change.action} ${change.target}`);
    }
  }

  /**
   * The device's state in the plan's terms: `after` once a certificate newer than `before`
   * (for a CSR: one certifying its key) is valid, `before` while only that one is.
   */
  private async readDevice(change: Change): Promise<unknown> {
    const spec = change.after as DeviceCertificateSpec;
    const before = change.before as LiveDeviceCertificate | null;
    await this.revokeOrphans(change.target, spec);
    const valid = (await this.inventory().forDevice(spec.owner, spec.device)).filter((c) => c.status === 'valid');
    const fresh = valid.filter((c) => c.serial !== before?.serial && (!spec.csr || c.keySha256 === spec.csr.keySha256));
    if (fresh.length) return change.after;
    const old = valid.find((c) => c.serial === before?.serial) ?? valid[0];
    return old ? liveOf(old) : before ? { ...before, status: 'gone' } : null;
  }

  private async journal(target: string): Promise<Journal | undefined> {
    const raw = await this.d.redis.get(this.d.keys.certDelivery(target));
    return raw ? (JSON.parse(raw) as Journal) : undefined;
  }

  private async writeJournal(target: string, j: Journal): Promise<void> {
    await this.d.redis.set(this.d.keys.certDelivery(target), JSON.stringify(j), 'EX', JOURNAL_TTL_S);
  }

  /** Revokes what an earlier attempt issued but never delivered (its key died with that attempt). */
  /**
   * Tells every `labgate gate` at once (Redis pub/sub), so the revocation holds at the edge
   * within a second instead of at the next CRL refresh. Best effort: the gates' scheduled
   * refresh catches up when Redis drops the message.
   */
  private async pushToGates(serial: string, revokedAt: number): Promise<void> {
    try {
      await this.d.redis.publish(this.d.keys.gateRevoked, JSON.stringify({ serial, revokedAt }));
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message, serial }, 'could not push the revocation to the gates; they pick it up at their next refresh');
    }
  }

  private async revokeOrphans(target: string, spec: DeviceCertificateSpec): Promise<void> {
    const j = await this.journal(target);
    if (!j) return;
    let serials: string[];
    if (j.serial) serials = [j.serial];
    else {
      // Issued, but the answer never arrived: any certificate of this device from then on.
      const since = j.at - NOT_BEFORE_SLACK_MS;
      serials = (await this.inventory().forDevice(spec.owner, spec.device)).filter((c) => c.status === 'valid' && c.notBefore >= since).map((c) => c.serial);
    }
    for (const serial of serials) {
      await this.d.bao.revoke(serial);
      this.d.logger.warn({ target, serial }, 'revoked a certificate an interrupted apply issued but did not deliver');
    }
    if (serials.length) await this.d.bao.rotateCrl();
    await this.d.redis.del(this.d.keys.certDelivery(target));
  }

  /** What OpenBao returned must be exactly what was asked for; otherwise it is revoked and refused. */
  private async checkReturned(change: Change, serial: string, certificatePem: string, via: ConversationRef | undefined): Promise<void> {
    const spec = change.after as DeviceCertificateSpec;
    const problems = clientCertificateProblems(certificatePem, { commonName: spec.device, uriSans: spec.uriSans, ...(spec.csr ? { keySha256: spec.csr.keySha256 } : {}) });
    if (!problems.length) return;
    await this.undo(change, serial, `OpenBao returned a certificate other than the one asked for: ${problems.join('; ')}`, via);
    throw new UserError(
      UserErrorCode.Policy,
      `OpenBao returned a certificate for ${spec.device} that labgate did not ask for (${problems.join('; ')}); labgate revoked it (serial ${serial}). Check the ${spec.role} role (use_csr_sans, ext_key_usage, basic constraints)`,
    );
  }

  private async deliverNew(change: Change, via?: ConversationRef): Promise<void> {
    const spec = change.after as DeviceCertificateSpec;
    await this.revokeOrphans(change.target, spec);
    await this.writeJournal(change.target, { state: 'issuing', at: this.d.now() });
    const role = spec.role;
    let serial: string;
    let expiresAt: number;
    let dm: { msgs: OutMessage[]; files: OutgoingFile[] };
    if (change.action === 'issue') {
      const [type, bits] = spec.key.split('-') as ['rsa' | 'ec', string];
      const issued = await this.d.bao.issue(role, { commonName: spec.device, uriSans: spec.uriSans, ttlSeconds: spec.ttlSeconds, keyType: type, keyBits: Number(bits) });
      ({ serial, expiresAt } = issued);
      await this.writeJournal(change.target, { state: 'issued', at: this.d.now(), serial });
      await this.checkReturned(change, serial, issued.certificatePem, via);
      try {
        const passphrase = generatePassphrase();
        // An issue change always carries a bundle profile; 'csr' belongs to sign changes.
        const profile = spec.profile as Pkcs12Profile;
        const bundle = buildPkcs12({
          privateKeyPem: issued.privateKeyPem,
          certificatePem: issued.certificatePem,
          caChainPem: issued.caChainPem,
          passphrase,
          profile,
          friendlyName: `${spec.device} (labgate)`,
        });
        dm = bundleDm({ device: spec.device, serial, expiresAt, profile, bundle, passphrase, caChainPem: issued.caChainPem });
      } catch (err) {
        await this.undo(change, serial, `the bundle could not be built: ${(err as Error).message}`, via);
        throw err;
      }
    } else {
      const signed = await this.d.bao.sign(role, { csrPem: spec.csr!.pem, commonName: spec.device, uriSans: spec.uriSans, ttlSeconds: spec.ttlSeconds });
      ({ serial, expiresAt } = signed);
      await this.writeJournal(change.target, { state: 'issued', at: this.d.now(), serial });
      await this.checkReturned(change, serial, signed.certificatePem, via);
      dm = certificateDm({ device: spec.device, serial, expiresAt, certificatePem: signed.certificatePem, caChainPem: signed.caChainPem });
    }

    let result: DmResult;
    try {
      result = await this.d.notifier.dm(identityOf(spec.owner), dm.msgs, dm.files, via);
    } catch (err) {
      result = { delivered: false, reason: 'failed', detail: (err as Error).message };
    }
    if (!result.delivered) {
      await this.undo(change, serial, result.detail, via, dmRefusedAdvice(result.reason, spec.owner));
      throw new DeliveryError('DM', displayOwner(spec.owner), 403, `could not deliver ${spec.device}'s certificate to ${displayOwner(spec.owner)}: ${result.detail}; certificate ${serial} was revoked`);
    }
    await this.d.redis.del(this.d.keys.certDelivery(change.target));
    this.d.logger.info({ target: change.target, serial, expires: iso(expiresAt) }, 'device certificate delivered');
    if (via)
      await this.d.notifier
      .post(via, {
        kind: 'info',
        text: `Issued serial ${serial} for ${displayOwner(spec.owner)}'s ${spec.device}, expires ${iso(expiresAt)}`,
        lines: [`Delivered by DM${spec.profile === 'csr' ? '' : `; ${spec.profile} bundle, passphrase sent separately`}.`],
        mentions: mentionIds(spec.owner),
      })
      .catch((err) => this.d.logger.warn({ err: (err as Error).message, serial }, 'could not post the issue notice'));
  }

  /** Revokes a certificate that will not reach its owner and tells the requester why. */
  private async undo(change: Change, serial: string, why: string, via: ConversationRef | undefined, advice?: string): Promise<void> {
    const spec = change.after as DeviceCertificateSpec;
    await this.d.bao.revoke(serial);
    await this.d.bao.rotateCrl().catch((err) => this.d.logger.warn({ err: (err as Error).message }, 'CRL not rebuilt after revoking an undelivered certificate'));
    await this.d.redis.del(this.d.keys.certDelivery(change.target));
    this.d.logger.warn({ target: change.target, serial, why }, 'certificate not delivered; revoked it');
    const notice: OutMessage = {
      kind: 'error',
      text: `${displayOwner(spec.requestedBy)}: the certificate for ${displayOwner(spec.owner)}'s ${spec.device} could not be delivered (${why})`,
      lines: [`labgate revoked it (serial ${serial}), so no valid certificate is left whose key nobody holds. ${advice ?? 'Fix the cause and run the command again.'}`],
      mentions: mentionIds(spec.requestedBy, spec.owner),
    };
    if (via) await this.d.notifier.post(via, notice).catch((err) => this.d.logger.warn({ err: (err as Error).message }, 'could not tell the requester'));
  }
}
