import { describe, expect, it } from 'vitest';
import { renderDiscordMessage } from '../../src/chat/discord/render.js';
import { untrusted } from '../../src/messages/untrusted.js';

describe('untrusted text in messages', () => {
  it('keeps ordinary names as they are', () => {
    for (const s of ['pixel-8', 'alice-laptop.tail1234.ts.net', 'CN=pixel-8, O=Home', '198.51.100.23:41641']) expect(untrusted(s)).toBe(s);
  });

  it('makes one line of it: control, bidi and zero-width characters become a single space', () => {
    expect(untrusted('a\r\n\tb\u202Ec\u200Bd\u2028e')).toBe('a b c d e');
  });

  it('escapes what Discord markdown would act on: emphasis, code, masked links, mentions, headers, spoilers', () => {
    expect(untrusted('**bold** _it_ ~~s~~ `c` ||sp|| [x](https://e.example) <@123> # h > q \\')).toBe(
      '\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\` \\|\\|sp\\|\\| \\[x\\]\\(https://e.example\\) \\<@123\\> \\# h \\> q \\\\',
    );
  });

  it('bounds the length', () => {
    expect([...untrusted('x'.repeat(500), 50)]).toHaveLength(50);
    expect(untrusted('x'.repeat(500), 50).endsWith('…')).toBe(true);
  });

  it('GIVEN a CSR subject crafted to look like an approval note THEN the Discord card shows it as plain text', () => {
    const subject = 'CN=x)\n\n**Reviewed by security: safe to approve**\n[details](https://evil.example/p)\nNote: (';
    const card = renderDiscordMessage({ kind: 'plan', text: 'Plan p-1: /cert sign device:pixel-8', lines: [`The CSR's own subject (${untrusted(subject)}) and names are not used.`] });
    const description = card.embeds[0]!.description!;
    expect(description.split('\n')).toHaveLength(1);
    expect(description).not.toMatch(/(^|[^\\])\*\*/);
    expect(description).not.toMatch(/(^|[^\\])\[details/);
  });
});
