import { noHandler, unsupportedOperation, type HandlerResult } from './http-envelope.js';
import { generateIntermediate, setSignedIntermediate, signIntermediate } from './intermediate-ca.js';
import { listIssuers, readIssuer, readIssuerCertificate, readIssuerCrl, readUrls, updateIssuer, writeUrls } from './issuer-endpoints.js';
import type { PkiEngine } from './pki-engine.js';
import { deleteRole, ROLE_FIELDS, writeRole } from './pki-roles.js';
import { cancelTidy, startTidy, tidyStatus } from './pki-tidy.js';
import { stringField, type RequestBody } from './request-fields.js';
import {
  checkFields,
  GENERATE_INTERMEDIATE_FIELDS,
  ISSUE_FIELDS,
  ISSUER_REF_FIELDS,
  ISSUER_UPDATE_FIELDS,
  NO_FIELDS,
  PAGING,
  REVOKE_FIELDS,
  SERIAL_FIELDS,
  SIGN_FIELDS,
  SIGN_INTERMEDIATE_FIELDS,
  TIDY_FIELDS,
  URLS_FIELDS,
  warnIgnored,
  type FieldSchema,
} from './route-fields.js';

export type Operation = 'read' | 'list' | 'update' | 'delete' | 'patch';

export interface PkiRequest {
  op: Operation;
  /** Path inside the mount, no leading or trailing slash ("issue/device"). */
  subpath: string;
  /** Full logical path, for error messages ("pki/issue/device"). */
  fullPath: string;
  /** The request's parameters: the body of a write, the query of a read or list. */
  body: RequestBody;
}

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?';
const SERIAL = '[0-9A-Fa-f:-]+';

/** Fetch paths OpenBao serves without a token (PathsSpecial.Unauthenticated of the PKI backend). */
export function isUnauthenticatedPkiPath(subpath: string): boolean {
  return /^(ca|ca\/pem|ca_chain|crl|crl\/pem|cert\/.+|issuers|issuer\/[^/]+\/(json|pem|der|crl|crl\/pem|crl\/der))$/.test(subpath);
}

type Handler = (m: RegExpExecArray, req: PkiRequest) => HandlerResult | Promise<HandlerResult>;

/** A path: its pattern, the fields it knows (captures included), and a handler per operation. */
type Route = { pattern: RegExp; fields: FieldSchema; ops: Partial<Record<Operation, Handler>> };

function routes(engine: PkiEngine): Route[] {
  const deps = engine.deps;
  const issuerCert = { ...ISSUER_REF_FIELDS };
  return [
    { pattern: new RegExp(`^issue/(${NAME})$`), fields: ISSUE_FIELDS, ops: { update: (m, r) => engine.issue(m[1]!, r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/issue/(${NAME})$`), fields: ISSUE_FIELDS, ops: { update: (m, r) => engine.issue(m[2]!, r.body, m[1]!) } },
    { pattern: new RegExp(`^sign/(${NAME})$`), fields: SIGN_FIELDS, ops: { update: (m, r) => engine.signCsr(m[1]!, r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/sign/(${NAME})$`), fields: SIGN_FIELDS, ops: { update: (m, r) => engine.signCsr(m[2]!, r.body, m[1]!) } },
    { pattern: /^certs$/, fields: PAGING, ops: { list: (_m, r) => engine.store.listCerts(r.body) } },
    { pattern: /^certs\/detailed$/, fields: PAGING, ops: { list: (_m, r) => engine.store.listCertsDetailed(r.body) } },
    { pattern: /^certs\/revoked$/, fields: PAGING, ops: { list: (_m, r) => engine.store.listRevoked(r.body) } },
    { pattern: /^cert\/(ca_chain|crl|delta-crl)$/, fields: SERIAL_FIELDS, ops: { read: (m) => engine.store.readCertJson(m[1]!) } },
    { pattern: new RegExp(`^cert/(${SERIAL}|ca)/raw(/pem)?$`), fields: SERIAL_FIELDS, ops: { read: (m) => engine.store.readCertRaw(m[1]!, m[2] !== undefined) } },
    { pattern: new RegExp(`^cert/(${SERIAL}|ca)$`), fields: SERIAL_FIELDS, ops: { read: (m) => engine.store.readCertJson(m[1]!) } },
    { pattern: /^revoke$/, fields: REVOKE_FIELDS, ops: { update: (_m, r) => engine.revocations.revoke(r.body) } },
    { pattern: /^ca(\/pem)?$/, fields: NO_FIELDS, ops: { read: (m) => engine.store.readCa(m[1] !== undefined) } },
    { pattern: /^ca_chain$/, fields: NO_FIELDS, ops: { read: () => engine.store.readCaChain() } },
    { pattern: /^crl(\/pem)?$/, fields: NO_FIELDS, ops: { read: (m) => engine.store.readCrl(m[1] !== undefined) } },
    { pattern: /^crl\/rotate$/, fields: NO_FIELDS, ops: { read: () => engine.store.rotateCrl() } },
    { pattern: /^roles$/, fields: PAGING, ops: { list: () => engine.listRoles() } },
    {
      pattern: new RegExp(`^roles/(${NAME})$`),
      fields: ROLE_FIELDS,
      ops: { read: (m) => engine.readRole(m[1]!), update: (m, r) => writeRole(deps, m[1]!, r.body), delete: (m) => deleteRole(deps, m[1]!) },
    },
    { pattern: /^issuers$/, fields: PAGING, ops: { list: (_m, r) => listIssuers(deps, r.body) } },
    {
      pattern: new RegExp(`^issuer/(${NAME})$`),
      fields: ISSUER_UPDATE_FIELDS,
      ops: {
        read: (m) => readIssuer(deps, m[1]!),
        update: (m, r) => updateIssuer(deps, m[1]!, r.body, false),
        patch: (m, r) => updateIssuer(deps, m[1]!, r.body, true),
      },
    },
    { pattern: new RegExp(`^issuer/(${NAME})/(json|pem|der)$`), fields: issuerCert, ops: { read: (m) => readIssuerCertificate(deps, m[1]!, m[2] as 'json') } },
    { pattern: new RegExp(`^issuer/(${NAME})/crl(?:/(pem|der))?$`), fields: issuerCert, ops: { read: (m) => readIssuerCrl(deps, m[1]!, (m[2] ?? 'json') as 'json') } },
    {
      pattern: /^intermediate\/generate\/(internal|exported)$/,
      fields: GENERATE_INTERMEDIATE_FIELDS,
      ops: { update: (m, r) => generateIntermediate(deps, m[1] === 'exported', r.body) },
    },
    { pattern: /^root\/sign-intermediate$/, fields: SIGN_INTERMEDIATE_FIELDS, ops: { update: (_m, r) => signIntermediate(deps, stringField(r.body, 'issuer_ref', 'default'), r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/sign-intermediate$`), fields: SIGN_INTERMEDIATE_FIELDS, ops: { update: (m, r) => signIntermediate(deps, m[1]!, r.body) } },
    { pattern: /^intermediate\/set-signed$/, fields: { certificate: 'string' }, ops: { update: (_m, r) => setSignedIntermediate(deps, r.body) } },
    { pattern: /^config\/urls$/, fields: URLS_FIELDS, ops: { read: () => readUrls(deps), update: (_m, r) => writeUrls(deps, r.body) } },
    { pattern: /^tidy$/, fields: TIDY_FIELDS, ops: { update: (_m, r) => startTidy(deps, r.body) } },
    { pattern: /^tidy-status$/, fields: NO_FIELDS, ops: { read: () => tidyStatus(deps) } },
    { pattern: /^tidy-cancel$/, fields: NO_FIELDS, ops: { update: () => cancelTidy(deps) } },
  ];
}

// Built once per engine: a scan reads thousands of certificates, one request each.
const routeTables = new WeakMap<PkiEngine, Route[]>();

/**
 * Dispatches one request inside the PKI mount: 404 for unknown paths, 405 for unsupported
 * operations, 400 for a parameter of the wrong type, and the unrecognized-parameters warning.
 */
export async function handlePkiRequest(engine: PkiEngine, req: PkiRequest): Promise<HandlerResult> {
  let table = routeTables.get(engine);
  if (!table) routeTables.set(engine, (table = routes(engine)));
  for (const route of table) {
    const m = route.pattern.exec(req.subpath);
    if (!m) continue;
    const handler = route.ops[req.op];
    if (!handler) throw unsupportedOperation();
    const ignored = checkFields(route.fields, req.body);
    return warnIgnored(await handler(m, req), ignored);
  }
  throw noHandler(req.fullPath);
}
