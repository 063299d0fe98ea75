/**
 * Text labgate did not write (a CSR's subject, a tailnet peer's HostName, a router comment,
 * a command's stderr) made safe to put in a message: one line, bounded, and with no character
 * that chat markdown would turn into formatting, a masked link, a mention or a code fence. A
 * peer calling itself `x\n**Approved by security**` must not dress up a plan or an alert.
 * Names made of letters, digits, '-' and '.' come out unchanged.
 */
export function untrusted(text: string, max = 120): string {
  const line = text
    // Control and format characters (newlines, bidi overrides, zero-width) become spaces.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const clipped = [...line].length > max ? `${[...line].slice(0, max - 1).join('')}…` : line;
  return clipped.replace(/[\\*_~`|<>[\]()#]/g, (c) => `\\${c}`);
}
