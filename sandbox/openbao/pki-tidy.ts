import { rfc3339Nano } from './durations.js';
import { jsonResult, userError, type HandlerResult } from './http-envelope.js';
import type { IssuerDeps } from './intermediate-ca.js';
import type { TidyRun } from './openbao-state.js';
import { rebuildCrl } from './pki-issuer.js';
import { boolField, durationField, intField, stringField, type RequestBody } from './request-fields.js';
import { TIDY_FLAGS } from './route-fields.js';

/**
 * `POST <mount>/tidy`, `GET <mount>/tidy-status`, `POST <mount>/tidy-cancel` (path_tidy.go):
 * tidy starts in the background and answers 202 at once; the certificate store drops
 * certificates past their NotAfter by more than the safety buffer (revoked ones by the revoked
 * buffer, and with tidy_revoked_certs their revocation entries, after which the CRLs are
 * rebuilt).
 */

const DEFAULT_SAFETY_BUFFER = 72 * 3600;
const DEFAULT_ISSUER_SAFETY_BUFFER = 365 * 86400;
const DEFAULT_ACME_SAFETY_BUFFER = 30 * 86400;

/** `POST <mount>/tidy`: 202 with a warning; the run happens right after the answer. */
export function startTidy(deps: IssuerDeps, body: RequestBody): HandlerResult {
  const given = (f: string) => body[f] !== undefined;
  const safety = given('safety_buffer') ? durationField(body, 'safety_buffer') : DEFAULT_SAFETY_BUFFER;
  const revokedSafety = given('revoked_safety_buffer') ? durationField(body, 'revoked_safety_buffer') : safety;
  const issuerSafety = given('issuer_safety_buffer') ? durationField(body, 'issuer_safety_buffer') : DEFAULT_ISSUER_SAFETY_BUFFER;
  const acmeSafety = given('acme_account_safety_buffer') ? durationField(body, 'acme_account_safety_buffer') : DEFAULT_ACME_SAFETY_BUFFER;
  if (safety < 1) throw userError('safety_buffer must be greater than zero');
  if (revokedSafety < 1) throw userError('revokedSafetyBuffer must be greater than zero');
  if (issuerSafety < 1) throw userError('issuer_safety_buffer must be greater than zero');
  if (acmeSafety < 1) throw userError('acme_account_safety_buffer must be greater than zero');
  const pageSize = given('page_size') ? intField(body, 'page_size') : 1000;
  if (pageSize > 0 && pageSize < 5) throw userError('page_size must be greater than five');
  const pause = stringField(body, 'pause_duration', '0s');

  const flags = Object.fromEntries(TIDY_FLAGS.map((f) => [f, boolField(body, f)])) as Record<(typeof TIDY_FLAGS)[number], boolean>;
  flags.tidy_revoked_certs ||= boolField(body, 'tidy_revocation_list');

  if (deps.pki.tidy?.state === 'Running') return { kind: 'json', status: 200, data: null, warnings: ['Tidy operation already in progress.'] };

  const run: TidyRun = {
    config: { ...flags, safety_buffer: safety, revoked_safety_buffer: revokedSafety, issuer_safety_buffer: issuerSafety, acme_account_safety_buffer: acmeSafety, pause_duration: pause, page_size: pageSize },
    state: 'Running',
    timeStarted: deps.now(),
    certStoreDeletedCount: 0,
    revokedCertDeletedCount: 0,
  };
  deps.pki.tidy = run;
  deps.changed();
  // OpenBao runs tidy in a goroutine; the answer does not wait for it.
  setImmediate(() => void runTidy(deps, run, flags.tidy_cert_store, flags.tidy_revoked_certs, safety, revokedSafety));

  const any = TIDY_FLAGS.some((f) => flags[f]);
  return {
    kind: 'json',
    status: 202,
    data: null,
    warnings: [
      any
        ? "Tidy operation successfully started. Any information from the operation will be printed to OpenBao's server logs."
        : `Manual tidy requested but no tidy operations were set. Enable at least one tidy operation to be run (${TIDY_FLAGS.join(' / ')}).`,
    ],
  };
}

async function runTidy(deps: IssuerDeps, run: TidyRun, certStore: boolean, revokedCerts: boolean, safety: number, revokedSafety: number): Promise<void> {
  const now = deps.now();
  const touchedIssuers = new Set<string>();
  for (const [key, cert] of Object.entries(deps.pki.certs)) {
    const expiredFor = now / 1000 - cert.notAfter;
    if (cert.revokedAt === undefined) {
      if (certStore && expiredFor > safety) {
        delete deps.pki.certs[key];
        run.certStoreDeletedCount++;
      }
    } else if ((certStore || revokedCerts) && expiredFor > revokedSafety) {
      delete deps.pki.certs[key];
      run.certStoreDeletedCount += certStore ? 1 : 0;
      if (revokedCerts) run.revokedCertDeletedCount++;
      touchedIssuers.add(cert.issuerId);
    }
  }
  for (const id of touchedIssuers) {
    const issuer = deps.pki.issuers[id];
    if (issuer?.privateKeyPem) await rebuildCrl(deps.pki, issuer, deps.keyring, now);
  }
  run.state = 'Finished';
  run.timeFinished = deps.now();
  deps.changed();
}

/** `GET <mount>/tidy-status`: every field, null until a tidy has run. */
export function tidyStatus(deps: IssuerDeps): HandlerResult {
  const run = deps.pki.tidy;
  const data: Record<string, unknown> = {
    safety_buffer: null,
    revoked_safety_buffer: null,
    issuer_safety_buffer: null,
    tidy_cert_store: null,
    tidy_revoked_certs: null,
    tidy_invalid_certs: null,
    tidy_revoked_cert_issuer_associations: null,
    tidy_expired_issuers: null,
    tidy_move_legacy_ca_bundle: null,
    tidy_acme: null,
    pause_duration: null,
    page_size: null,
    state: 'Inactive',
    error: null,
    time_started: null,
    time_finished: null,
    message: null,
    cert_store_deleted_count: null,
    revoked_cert_deleted_count: null,
    missing_issuer_cert_count: null,
    current_cert_store_count: null,
    current_revoked_cert_count: null,
    internal_backend_uuid: deps.pki.backendUuid ?? null,
    total_acme_account_count: null,
    acme_account_deleted_count: null,
    acme_account_revoked_count: null,
    acme_orders_deleted_count: null,
    acme_account_safety_buffer: null,
  };
  if (!run) return jsonResult(data);
  Object.assign(data, run.config, {
    state: run.state,
    time_started: rfc3339Nano(run.timeStarted),
    message: null,
    cert_store_deleted_count: run.certStoreDeletedCount,
    revoked_cert_deleted_count: run.revokedCertDeletedCount,
    missing_issuer_cert_count: 0,
    last_auto_tidy_finished: rfc3339Nano(run.timeStarted),
    total_acme_account_count: 0,
    acme_account_deleted_count: 0,
    acme_account_revoked_count: 0,
    acme_orders_deleted_count: 0,
  });
  if (run.state === 'Finished') data.time_finished = rfc3339Nano(run.timeFinished ?? run.timeStarted);
  return jsonResult(data);
}

/** `POST <mount>/tidy-cancel`: nothing to cancel once a run finished (the sandbox's runs are short). */
export function cancelTidy(deps: IssuerDeps): HandlerResult {
  if (deps.pki.tidy?.state !== 'Running') return { kind: 'json', data: null, warnings: ['Tidy operation cannot be cancelled as none is currently running.'] };
  return tidyStatus(deps);
}
