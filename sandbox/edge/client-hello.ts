/**
 * The server name (SNI) in a TLS ClientHello, read before the handshake starts so the edge can
 * pick the route's TLS options (client CA, whether a certificate is required) the way Traefik
 * does. `incomplete` while more bytes are needed.
 */
export type ClientHelloRead = { incomplete: true } | { incomplete: false; sni?: string };

export function readClientHelloSni(buf: Buffer): ClientHelloRead {
  if (buf.length < 5) return { incomplete: true };
  // Not a TLS handshake record: let the TLS layer answer it.
  if (buf[0] !== 0x16) return { incomplete: false };
  const recordLength = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLength) return { incomplete: true };
  const hs = buf.subarray(5, 5 + recordLength);
  if (hs[0] !== 0x01 || hs.length < 4) return { incomplete: false };
  let i = 4 + 2 + 32; // handshake header, client_version, random
  const need = (n: number) => i + n <= hs.length;
  if (!need(1)) return { incomplete: false };
  i += 1 + hs[i]!; // session id
  if (!need(2)) return { incomplete: false };
  i += 2 + hs.readUInt16BE(i); // cipher suites
  if (!need(1)) return { incomplete: false };
  i += 1 + hs[i]!; // compression methods
  if (!need(2)) return { incomplete: false };
  const end = Math.min(hs.length, i + 2 + hs.readUInt16BE(i));
  i += 2;
  while (i + 4 <= end) {
    const type = hs.readUInt16BE(i);
    const len = hs.readUInt16BE(i + 2);
    const body = hs.subarray(i + 4, i + 4 + len);
    i += 4 + len;
    if (type !== 0 || body.length < 5) continue;
    // server_name_list: one host_name entry (type 0) in practice.
    let j = 2;
    while (j + 3 <= body.length) {
      const nameType = body[j]!;
      const nameLen = body.readUInt16BE(j + 1);
      const name = body.subarray(j + 3, j + 3 + nameLen).toString('ascii');
      if (nameType === 0) return { incomplete: false, sni: name.toLowerCase() };
      j += 3 + nameLen;
    }
  }
  return { incomplete: false };
}
