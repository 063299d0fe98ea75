import { clip } from '../../messages/text.js';
import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIEmbedField,
} from 'discord.js';
import type { Button, MessageKind, OutMessage, PlanState, Table } from '../../messages/message.js';

/** A file the message carries as an attachment (a long diff, a wide table). */
export interface DiscordFile {
  name: string;
  data: Buffer;
  contentType: string;
}

/** A message as Discord takes it (REST field names), plus the files to upload with it. */
export interface DiscordPayload {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  allowed_mentions: APIAllowedMentions;
  /** Ephemeral (64) for private messages; only interaction replies can honour it. */
  flags?: number;
  files: DiscordFile[];
}

/**
 * Discord's limits. A diff is shown inline only while the whole message stays within what one
 * plain message may hold (2,000 characters); beyond that it travels as an attached file.
 */
export const DISCORD_LIMITS = {
  content: 2000,
  inlineMessage: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  embedTotal: 6000,
  buttonsPerRow: 5,
  rows: 5,
  label: 80,
} as const;

const COLOUR = { blurple: 0x5865f2, green: 0x57f287, yellow: 0xfee75c, orange: 0xe67e22, red: 0xed4245, grey: 0x99aab5 } as const;

const STYLE: Record<Button['style'], APIButtonComponentWithCustomId['style']> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
};

// Short kinds read best as one line of text; the rest become a card (embed).
const PLAIN_KINDS: readonly MessageKind[] = ['refusal', 'error', 'info', 'decision'];

/** A code block that cannot be closed early by what it shows. */
function codeBlock(lang: string, body: string): string {
  return `\`\`\`${lang}\n${body.replace(/```/g, '`\u200b``')}\n\`\`\``;
}

function tableText(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(t.columns), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}

// A field that is exactly a UTC time reads in each person's own time zone, with "in 14 minutes".
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
function fieldValue(v: string): string {
  if (!ISO_UTC.test(v)) return v;
  const s = Math.floor(Date.parse(v) / 1000);
  return `<t:${s}:f> (<t:${s}:R>)`;
}

const textFile = (name: string, text: string, contentType = 'text/plain; charset=utf-8'): DiscordFile => ({ name, data: Buffer.from(text, 'utf8'), contentType });

// A plan's colour follows its state; other kinds have a colour of their own. The colour is a hint,
// the text says it.
const PLAN_COLOUR = new Map<PlanState, number>([
  ['pending', COLOUR.blurple],
  ['applied', COLOUR.green],
  ['failed', COLOUR.red],
  ['applying', COLOUR.yellow],
]);
const KIND_COLOUR = new Map<MessageKind, number>([
  ['alert', COLOUR.orange],
  ['error', COLOUR.red],
  ['refusal', COLOUR.yellow],
]);

function colourOf(msg: OutMessage): number {
  switch (msg.kind) {
    case 'plan':
      if (!msg.planStatus) return msg.buttons?.some((b) => !b.disabled) ? COLOUR.blurple : COLOUR.grey;
      return PLAN_COLOUR.get(msg.planStatus.state) ?? COLOUR.grey;
    case 'result':
      return msg.result?.status === 'applied' ? COLOUR.green : msg.result?.status === 'refused' ? COLOUR.orange : COLOUR.red;
    default:
      return KIND_COLOUR.get(msg.kind) ?? COLOUR.blurple;
  }
}

function buttonRows(buttons: Button[] | undefined): DiscordPayload['components'] {
  const rows: DiscordPayload['components'] = [];
  const list = (buttons ?? []).slice(0, DISCORD_LIMITS.buttonsPerRow * DISCORD_LIMITS.rows);
  for (let i = 0; i < list.length; i += DISCORD_LIMITS.buttonsPerRow) {
    rows.push({
      type: ComponentType.ActionRow,
      components: list.slice(i, i + DISCORD_LIMITS.buttonsPerRow).map((b) => ({
        type: ComponentType.Button,
        style: STYLE[b.style],
        label: clip(b.label, DISCORD_LIMITS.label),
        custom_id: b.id,
        disabled: Boolean(b.disabled),
      })),
    });
  }
  return rows;
}

const USER_MENTION = /<@!?(\d{17,20})>/;

/**
 * The users the message pings, as content (`<@id>` …) and allowed_mentions. Users the heading
 * already names are not repeated in front of it.
 */
function mentionsOf(msg: OutMessage, heading?: string): { content: string; allowed: APIAllowedMentions } {
  const users = [...new Set(msg.mentions ?? [])].filter((id) => /^\d{17,20}$/.test(id));
  const inHeading = (id: string) => heading !== undefined && (heading.includes(`<@${id}>`) || heading.includes(`<@!${id}>`));
  // Nobody is pinged unless the message names them: never @everyone or roles from rendered text.
  return {
    content: users
      .filter((id) => !inHeading(id))
      .map((id) => `<@${id}>`)
      .join(' '),
    allowed: users.length ? { parse: [], users } : { parse: [] },
  };
}

function plainMessage(msg: OutMessage): DiscordPayload {
  const head =
    msg.kind === 'refusal' ? `✗ ${msg.text}` : msg.kind === 'error' ? `⚠ ${msg.text}` : msg.kind === 'decision' ? `✓ ${msg.text}` : msg.text;
  const { content: mentions, allowed } = mentionsOf(msg, head);
  const parts = [mentions ? `${mentions} ${head}` : head, ...(msg.lines ?? [])];
  if (msg.ref) parts.push(`Reference: \`${msg.ref}\``);
  const full = parts.join('\n');
  const files: DiscordFile[] = [];
  let content = full;
  if (full.length > DISCORD_LIMITS.content) {
    const note = '\n… (the full text is in message.txt)';
    content = full.slice(0, DISCORD_LIMITS.content - note.length) + note;
    files.push(textFile('message.txt', full));
  }
  return { content, embeds: [], components: buttonRows(msg.buttons), allowed_mentions: allowed, ...(msg.private ? { flags: MessageFlags.Ephemeral } : {}), files };
}

// Fields may take this much of an embed's 6,000 characters; the description keeps the rest.
const FIELD_BUDGET = 2000;

function cardMessage(msg: OutMessage): DiscordPayload {
  // Discord shows <@id> in an embed title as typed, not as a name: a heading that names someone
  // goes above the card, in the content, where the mention reads (and pings) as it should.
  const headingInContent = USER_MENTION.test(msg.text) && msg.text.length <= DISCORD_LIMITS.content - 200;
  const { content: pings, allowed } = mentionsOf(msg, headingInContent ? msg.text : undefined);
  const content = headingInContent ? [pings, msg.text].filter(Boolean).join(' ') : pings;
  const files: DiscordFile[] = [];
  const fileBase = msg.planId ? `plan-${msg.planId}` : msg.kind;
  const detailsFile = `${fileBase}-details.txt`;
  // Never cut silently: the whole of whatever had to be shortened goes into the details file.
  const details: string[] = [];
  const notes: string[] = [];

  const title = headingInContent ? '' : clip(msg.text, DISCORD_LIMITS.title);
  if (!headingInContent && title !== msg.text) details.push(msg.text);
  const fields: APIEmbedField[] = [];
  let fieldChars = 0;
  let fieldsShortened = false;
  for (const f of msg.fields ?? []) {
    const fullName = f.name || '—';
    const fullValue = fieldValue(f.value) || '—';
    const name = clip(fullName, DISCORD_LIMITS.fieldName);
    const value = clip(fullValue, DISCORD_LIMITS.fieldValue);
    if (fields.length >= DISCORD_LIMITS.fields || fieldChars + name.length + value.length > FIELD_BUDGET) {
      fieldsShortened = true;
      continue;
    }
    if (name !== fullName || value !== fullValue) fieldsShortened = true;
    fields.push({ name, value, inline: f.name !== 'Status' && value.length <= 40 });
    fieldChars += name.length + value.length;
  }
  if (fieldsShortened) details.push((msg.fields ?? []).map((f) => `${f.name}: ${f.value}`).join('\n'));
  if (details.length) notes.push(`Some of this is too long for Discord; the whole text is attached as ${detailsFile}.`);

  const footer = msg.ref ? { text: `Reference: ${msg.ref}` } : undefined;
  const fixed = title.length + (footer?.text.length ?? 0) + fieldChars + content.length;
  const descriptionRoom = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - fixed);

  let prose = (msg.lines ?? []).join('\n');
  const blocks: string[] = [];
  if (msg.table) {
    const text = tableText(msg.table);
    const block = codeBlock('', text);
    if (prose.length + block.length + 2 <= descriptionRoom) blocks.push(block);
    else {
      files.push(textFile(`${fileBase}.txt`, text + '\n'));
      notes.push(`The table (${msg.table.rows.length} rows) is attached as ${fileBase}.txt.`);
    }
  }
  if (msg.diff) {
    const block = codeBlock('diff', msg.diff);
    const used = fixed + prose.length + blocks.reduce((n, b) => n + b.length + 2, 0);
    if (used + block.length + 2 <= DISCORD_LIMITS.inlineMessage) blocks.push(block);
    else {
      files.push(textFile(`${fileBase}.diff`, msg.diff.endsWith('\n') ? msg.diff : msg.diff + '\n', 'text/x-diff; charset=utf-8'));
      notes.push(`The full diff (${msg.diff.split('\n').length} lines) is attached as ${fileBase}.diff.`);
    }
  }

  const tailOf = () => [...blocks, ...notes].join('\n\n');
  let room = descriptionRoom - (tailOf() ? tailOf().length + 2 : 0);
  if (prose.length > room) {
    if (!details.length) {
      notes.push(`Some of this is too long for Discord; the whole text is attached as ${detailsFile}.`);
      room = descriptionRoom - tailOf().length - 2;
    }
    details.push(prose);
    prose = `${prose.slice(0, Math.max(0, room - 1))}…`;
  }
  if (details.length) files.push(textFile(detailsFile, details.join('\n\n') + '\n'));
  const description = clip([prose, tailOf()].filter(Boolean).join('\n\n'), descriptionRoom);
  const embed: APIEmbed = {
    ...(title ? { title } : {}),
    color: colourOf(msg),
    ...(description ? { description } : {}),
    ...(fields.length ? { fields } : {}),
    ...(footer ? { footer } : {}),
  };

  // A heading moved to the content may leave nothing for the card to show.
  const empty = !embed.title && !embed.description && !embed.fields && !embed.footer;
  return {
    content,
    embeds: empty ? [] : [embed],
    components: buttonRows(msg.buttons),
    allowed_mentions: allowed,
    ...(msg.private ? { flags: MessageFlags.Ephemeral } : {}),
    files,
  };
}

/**
 * How one message reads on Discord: short answers as text, everything else as an embed card
 * with buttons below. The one place Discord rendering lives.
 */
export function renderDiscordMessage(msg: OutMessage): DiscordPayload {
  const plain = PLAIN_KINDS.includes(msg.kind) && !msg.fields?.length && !msg.table && !msg.diff;
  return plain ? plainMessage(msg) : cardMessage(msg);
}
