import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { x509 } from '../pki/x509.js';

export interface DeviceCrl {
  issuers: X509Certificate[];
  entries: [serial: string, revokedAt: number][];
  nextUpdate?: number;
}

/** Where the gate reads the device issuer and its CRL: OpenBao's unauthenticated issuer endpoints (no token needed). */
export interface CrlSource {
  read(): Promise<DeviceCrl>;
}

function get(url: string, timeoutMs: number, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: timeoutMs, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: ${res.statusCode}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * `GET /v1/<mount>/issuer/<ref>/pem` and `GET /v1/<mount>/issuer/<ref>/crl/pem`. The CRL's
 * signature is checked against the issuer, so a CRL from anywhere else is refused.
 */
export function openBaoCrlSource(opts: { baseUrl: string; mount: string; issuer: string; timeoutMs: number; caFile?: string }): CrlSource {
  const ca = opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined;
  const base = `${opts.baseUrl.replace(/\/+$/, '')}/v1/${opts.mount}/issuer/${encodeURIComponent(opts.issuer)}`;
  return {
    async read() {
      const [issuerPem, crlPem] = await Promise.all([get(`${base}/pem`, opts.timeoutMs, ca), get(`${base}/crl/pem`, opts.timeoutMs, ca)]);
      const issuerBlocks = issuerPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (!issuerBlocks.length) throw new Error(`${base}/pem: no certificate`);
      const crl = new x509.X509Crl(crlPem.trim());
      if (!(await crl.verify({ publicKey: new x509.X509Certificate(issuerBlocks[0]!) }))) throw new Error(`${base}/crl/pem: the CRL's signature does not verify against the device issuer`);
      return {
        issuers: [new X509Certificate(issuerBlocks[0]!)],
        entries: crl.entries.map((e) => [e.serialNumber, e.revocationDate.getTime()]),
        nextUpdate: crl.nextUpdate?.getTime(),
      };
    },
  };
}
