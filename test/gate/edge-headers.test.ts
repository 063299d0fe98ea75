import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readClientHelloSni } from '../../sandbox/edge/client-hello.js';
import { clientCertHeader, clientCertInfoHeader, goQueryEscape } from '../../sandbox/edge/traefik-headers.js';
import { parseClientCertHeader } from '../../src/gate/client-certificate.js';
import { createSelfSignedCertificate } from '../../sandbox/routeros/self-signed-certificate.js';

describe('the sandbox edge speaks Traefik’s formats', () => {
  it('GIVEN a ClientHello from Node’s TLS client THEN the SNI is read before the handshake, also when it arrives in pieces', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
    const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, servername: 'Photos.Home.Example.com' });
    client.on('error', () => {});
    const hello = await got;
    server.close();
    expect(readClientHelloSni(hello)).toEqual({ incomplete: false, sni: 'photos.home.example.com' });
    expect(readClientHelloSni(hello.subarray(0, 40))).toEqual({ incomplete: true });
    expect(readClientHelloSni(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ incomplete: false });
  });

  it('GIVEN a certificate THEN X-Forwarded-Tls-Client-Cert is its base64 DER (Traefik v3), which the gate reads back, as it reads v2’s escaped PEM', () => {
    const { certPem } = createSelfSignedCertificate('pixel-8');
    const der = new X509Certificate(certPem).raw;
    const header = clientCertHeader([der]);
    expect(header).toBe(certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''));
    expect(parseClientCertHeader(header)![0]!.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
    expect(parseClientCertHeader(encodeURIComponent(certPem))![0]!.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
  });

  it('GIVEN info options THEN X-Forwarded-Tls-Client-Cert-Info is query-escaped Subject/SerialNumber/NA/SAN joined by ";"', () => {
    const { certPem } = createSelfSignedCertificate('pixel-8');
    const c = new X509Certificate(certPem);
    const info = decodeURIComponent(clientCertInfoHeader([c.raw], { subject: { commonName: true }, serialNumber: true, notAfter: true, sans: true }).replace(/\+/g, ' '));
    expect(info).toBe(`Subject="CN=pixel-8";SerialNumber="${BigInt(`0x${c.serialNumber}`)}";NA="${Math.floor(Date.parse(c.validTo) / 1000)}";SAN="localhost,127.0.0.1"`);
    expect(goQueryEscape('a b/c*')).toBe('a+b%2Fc%2A');
  });
});
