/**
 * @peculiar/x509 wired to Node's WebCrypto. Import `x509` from here, never from the package
 * directly: tsyringe (under @peculiar/x509 2.x) needs the Reflect metadata polyfill loaded first.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
/** Node's WebCrypto SubtleCrypto. */
export const subtle = webcrypto.subtle;
export type CryptoKey = webcrypto.CryptoKey;
/** A signature algorithm as WebCrypto and @peculiar/x509 take it. */
export type SigningAlgorithm = { name: string; hash: string };
