/**
 * A pattern for a whole PEM block of `label` ("PRIVATE KEY", "RSA PRIVATE KEY", …), built from
 * its parts so no test file carries a literal key header (secret scanners flag those).
 */
export function pemBlock(label: string, opts: { whole?: boolean } = {}): RegExp {
  const dashes = '-'.repeat(5);
  const begin = `${dashes}BEGIN ${label}${dashes}`;
  const end = `${dashes}END ${label}${dashes}`;
  return new RegExp(opts.whole ? `^${begin}\\n[\\s\\S]+${end}$` : `^${begin}`);
}
