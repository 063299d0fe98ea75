import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from './openssl.js';

// Certificates are made with the openssl CLI rather than @peculiar/x509: its 2.x needs a
// Reflect metadata polyfill that is not installed.

export type KeyKind = 'rsa' | 'ec';
/** `traditional` is what OpenBao returns by default: PKCS#1 for RSA, SEC1 for EC. */
export type KeyPemFormat = 'traditional' | 'pkcs8';

export interface TestCa {
  rootPem: string;
  intermediatePem: string;
  /** Temp folder holding the CA keys; call `dispose` to remove it. */
  dir: string;
  dispose(): void;
}

export interface TestDevice {
  certificatePem: string;
  privateKeyPem: string;
}

const EXTENSIONS = `
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

function generateKey(kind: KeyKind, format: KeyPemFormat): string {
  const { privateKey } =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const type = format === 'pkcs8' ? 'pkcs8' : kind === 'rsa' ? 'pkcs1' : 'sec1';
  return privateKey.export({ type, format: 'pem' }).toString();
}

async function run(args: string[]): Promise<void> {
  const result = await openssl(args);
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
}

async function sign(dir: string, name: string, keyPem: string, subject: string, issuer: string, section: string): Promise<string> {
  const key = join(dir, `${name}.key`);
  writeFileSync(key, keyPem, { mode: 0o600 });
  await run(['req', '-new', '-key', key, '-subj', subject, '-out', join(dir, `${name}.csr`)]);
  await run([
    'x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, `${issuer}.pem`), '-CAkey', join(dir, `${issuer}.key`),
    '-set_serial', '0x' + randomBytes(16).toString('hex'), '-days', '2', '-sha256',
    '-extfile', join(dir, 'ext.cnf'), '-extensions', section, '-out', join(dir, `${name}.pem`),
  ]);
  return readFileSync(join(dir, `${name}.pem`), 'utf8');
}

/** A root and an intermediate CA, like an OpenBao PKI mount issuing from an intermediate. */
export async function createTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-test-ca-'));
  writeFileSync(join(dir, 'ext.cnf'), EXTENSIONS);
  writeFileSync(join(dir, 'root.key'), generateKey('ec', 'pkcs8'), { mode: 0o600 });
  await run([
    'req', '-x509', '-key', join(dir, 'root.key'), '-subj', '/CN=labgate test root', '-days', '2', '-sha256',
    '-config', join(dir, 'ext.cnf'), '-extensions', 'ca', '-out', join(dir, 'root.pem'),
  ]);
  const intermediatePem = await sign(dir, 'intermediate', generateKey('ec', 'pkcs8'), '/CN=labgate test devices', 'root', 'ca');
  return {
    rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    intermediatePem,
    dir,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A client certificate and its key, as OpenBao's issue endpoint would return them. */
export async function issueTestDevice(ca: TestCa, kind: KeyKind, format: KeyPemFormat, name = 'alice-phone'): Promise<TestDevice> {
  const privateKeyPem = generateKey(kind, format);
  const file = `device-${randomBytes(6).toString('hex')}`;
  const certificatePem = await sign(ca.dir, file, privateKeyPem, `/CN=${name}`, 'intermediate', 'client');
  // Sanity: the helper must hand out the PEM flavour the test asked for.
  const header = privateKeyPem.split('\n')[0];
  const want = format === 'pkcs8' ? 'PRIVATE KEY' : kind === 'rsa' ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
  if (header !== `-----BEGIN ${want}-----`) throw new Error(`test key has header ${header}, wanted ${want}`);
  createPrivateKey(privateKeyPem);
  return { certificatePem, privateKeyPem };
}
