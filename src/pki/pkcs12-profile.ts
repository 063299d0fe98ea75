import { z } from 'zod';

/** Which PKCS#12 encryption a device bundle uses; chosen per device by what it can import. */
export const pkcs12ProfileSchema = z.enum(['android-legacy', 'modern']);
export type Pkcs12Profile = z.infer<typeof pkcs12ProfileSchema>;

const DESCRIPTIONS: Record<Pkcs12Profile, string> = {
  'android-legacy':
    '3DES with a SHA-1 MAC, as OpenSSL 1.x wrote it: for Android 13 and older, older iPhones and Macs, ' +
    'Windows Server 2016 and Java 8; the safe choice when unsure.',
  modern:
    'AES-256 with SHA-256, as OpenSSL 3 writes it: for Android 14 and newer, current iOS and macOS, ' +
    'Windows 10/11 and Linux; older Android says "wrong password" for it.',
};

/** One line telling a person which devices import bundles of this profile. */
export function describeProfile(profile: Pkcs12Profile): string {
  return DESCRIPTIONS[profile];
}
