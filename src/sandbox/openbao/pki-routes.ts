import { noHandler, unsupportedOperation, type HandlerResult } from './http-envelope.js';
import type { PkiEngine } from './pki-engine.js';
import { generateIntermediate, setSignedIntermediate, signIntermediate } from './intermediate-ca.js';
import { listIssuers, readIssuer, readIssuerCertificate, readIssuerCrl, readUrls, updateIssuer, writeUrls } from './issuer-endpoints.js';
import { stringField, type RequestBody } from './request-fields.js';

export type Operation = 'read' | 'list' | 'update' | 'delete' | 'patch';

export interface PkiRequest {
  op: Operation;
  /** Path inside the mount, no leading or trailing slash ("issue/device"). */
  subpath: string;
  /** Full logical path, for error messages ("pki/issue/device"). */
  fullPath: string;
  query: URLSearchParams;
  body: RequestBody;
}

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?';
const SERIAL = '[0-9A-Fa-f:-]+';

/** Fetch paths OpenBao serves without a token (PathsSpecial.Unauthenticated of the PKI backend). */
export function isUnauthenticatedPkiPath(subpath: string): boolean {
  return /^(ca|ca\/pem|ca_chain|crl|crl\/pem|cert\/.+|issuers|issuer\/[^/]+\/(json|pem|der|crl|crl\/pem|crl\/der))$/.test(subpath);
}

type Route = {
  pattern: RegExp;
  ops: Partial<Record<Operation, (m: RegExpExecArray, req: PkiRequest) => HandlerResult | Promise<HandlerResult>>>;
};

function routes(engine: PkiEngine): Route[] {
  return [
    { pattern: new RegExp(`^issue/(${NAME})$`), ops: { update: (m, r) => engine.issue(m[1]!, r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/issue/(${NAME})$`), ops: { update: (m, r) => engine.issue(m[2]!, r.body, m[1]!) } },
    { pattern: new RegExp(`^sign/(${NAME})$`), ops: { update: (m, r) => engine.signCsr(m[1]!, r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/sign/(${NAME})$`), ops: { update: (m, r) => engine.signCsr(m[2]!, r.body, m[1]!) } },
    { pattern: /^certs$/, ops: { list: (_m, r) => engine.listCerts(r.query) } },
    { pattern: /^certs\/detailed$/, ops: { list: (_m, r) => engine.listCertsDetailed(r.query) } },
    { pattern: /^certs\/revoked$/, ops: { list: (_m, r) => engine.listRevoked(r.query) } },
    { pattern: /^cert\/(ca_chain|crl|delta-crl)$/, ops: { read: (m) => engine.readCertJson(m[1]!) } },
    { pattern: new RegExp(`^cert/(${SERIAL}|ca)/raw(/pem)?$`), ops: { read: (m) => engine.readCertRaw(m[1]!, m[2] !== undefined) } },
    { pattern: new RegExp(`^cert/(${SERIAL}|ca)$`), ops: { read: (m) => engine.readCertJson(m[1]!) } },
    { pattern: /^revoke$/, ops: { update: (_m, r) => engine.revoke(r.body) } },
    { pattern: /^ca(\/pem)?$/, ops: { read: (m) => engine.readCa(m[1] !== undefined) } },
    { pattern: /^ca_chain$/, ops: { read: () => engine.readCaChain() } },
    { pattern: /^crl(\/pem)?$/, ops: { read: (m) => engine.readCrl(m[1] !== undefined) } },
    { pattern: /^crl\/rotate$/, ops: { read: () => engine.rotateCrl() } },
    { pattern: /^roles$/, ops: { list: () => engine.listRoles() } },
    { pattern: /^issuers$/, ops: { list: (_m, r) => listIssuers(engine.deps, r.query) } },
    {
      pattern: new RegExp(`^issuer/(${NAME})$`),
      ops: {
        read: (m) => readIssuer(engine.deps, m[1]!),
        update: (m, r) => updateIssuer(engine.deps, m[1]!, r.body, false),
        patch: (m, r) => updateIssuer(engine.deps, m[1]!, r.body, true),
      },
    },
    { pattern: new RegExp(`^issuer/(${NAME})/(json|pem|der)$`), ops: { read: (m) => readIssuerCertificate(engine.deps, m[1]!, m[2] as 'json') } },
    { pattern: new RegExp(`^issuer/(${NAME})/crl(?:/(pem|der))?$`), ops: { read: (m) => readIssuerCrl(engine.deps, m[1]!, (m[2] ?? 'json') as 'json') } },
    { pattern: /^intermediate\/generate\/(internal|exported)$/, ops: { update: (m, r) => generateIntermediate(engine.deps, m[1] === 'exported', r.body) } },
    { pattern: /^root\/sign-intermediate$/, ops: { update: (_m, r) => signIntermediate(engine.deps, stringField(r.body, 'issuer_ref', 'default'), r.body) } },
    { pattern: new RegExp(`^issuer/(${NAME})/sign-intermediate$`), ops: { update: (m, r) => signIntermediate(engine.deps, m[1]!, r.body) } },
    { pattern: /^intermediate\/set-signed$/, ops: { update: (_m, r) => setSignedIntermediate(engine.deps, r.body) } },
    { pattern: /^config\/urls$/, ops: { read: () => readUrls(engine.deps), update: (_m, r) => writeUrls(engine.deps, r.body) } },
    { pattern: new RegExp(`^roles/(${NAME})$`), ops: { read: (m) => engine.readRole(m[1]!) } },
  ];
}

/** Dispatches one request inside the PKI mount: 404 for unknown paths, 405 for unsupported operations. */
export async function handlePkiRequest(engine: PkiEngine, req: PkiRequest): Promise<HandlerResult> {
  for (const route of routes(engine)) {
    const m = route.pattern.exec(req.subpath);
    if (!m) continue;
    const handler = route.ops[req.op];
    if (!handler) throw unsupportedOperation();
    return handler(m, req);
  }
  throw noHandler(req.fullPath);
}
