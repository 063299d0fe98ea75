import { randomInt } from 'node:crypto';

// Lower case and digits only, so a phone needs no shift key; without 0, 1 and l, nothing
// reads as o, l or I. 33 symbols × 24 draws ≈ 121 bits.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';
const GROUPS = 4;
const GROUP_LENGTH = 6;

/**
 * A fresh passphrase for a PKCS#12 bundle, from the CSPRNG: 24 characters in dash-separated
 * groups of six (e.g. `k7mw3p-x9qtzr-...`), easy to type on a phone.
 */
export function generatePassphrase(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
