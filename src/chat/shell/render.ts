import { colourDiff } from '../../plan/diff.js';
import type { OutMessage, Table } from '../../messages/message.js';
import { fitTable } from './table.js';

const C = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' };

function paint(colour: boolean, code: string, text: string): string {
  return colour ? code + text + C.reset : text;
}

/** A table in `width` columns (see fitTable for the order in which it is made to fit), with what was left out. */
export function renderTable(t: Table, width?: number): string {
  const fitted = fitTable(t, width);
  const out = [fitted.text];
  if (fitted.dropped.length) out.push(`(not shown in ${width} columns: ${fitted.dropped.join(', ')}; --json has every column)`);
  // A bare "?" in a cell is labgate saying it could not find the value out.
  if (t.rows.some((r) => r.some((c) => /(^|[\s(@])\?($|[\s),:])/.test(c)))) out.push('(? = not known: labgate could not read it)');
  return out.join('\n');
}

export interface RenderOptions {
  colour: boolean;
  edit?: boolean;
  /** The terminal's width; tables are fitted to it. Absent: printed at full width (a pipe). */
  width?: number;
}

/** How one message reads in a terminal. The one place shell rendering lives. */
export function renderShellMessage(msg: OutMessage, opts: RenderOptions): string {
  const { colour } = opts;
  if (opts.edit && msg.kind === 'plan') {
    const status = msg.planStatus?.line ?? 'updated';
    return paint(colour, C.dim, `[${msg.planId}] ${status}`);
  }
  const out: string[] = [];
  switch (msg.kind) {
    case 'plan':
      out.push(paint(colour, C.bold, `── ${msg.text} ──`));
      if (msg.fields?.length) out.push(msg.fields.map((f) => `${f.name}: ${f.value}`).join(' · '));
      break;
    case 'result':
      out.push(paint(colour, msg.result?.status === 'applied' ? C.green : C.red, `${msg.result?.status === 'applied' ? '✓' : '✗'} ${msg.text}`));
      break;
    case 'refusal':
      out.push(paint(colour, C.yellow, `✗ ${msg.text}`));
      break;
    case 'error':
      out.push(paint(colour, C.red, `! ${msg.text}${msg.ref ? ` (${msg.ref})` : ''}`));
      break;
    case 'decision':
      out.push(msg.text);
      break;
    case 'dm':
      out.push(paint(colour, C.bold, msg.text));
      break;
    default:
      out.push(paint(colour, C.bold, msg.text));
      if (msg.fields?.length) out.push(msg.fields.map((f) => `${f.name}: ${f.value}`).join(' · '));
  }
  if (msg.lines?.length) out.push(...msg.lines);
  if (msg.table) out.push(renderTable(msg.table, opts.width));
  if (msg.diff) out.push(colour ? colourDiff(msg.diff) : msg.diff);
  if (msg.files?.length) out.push(...msg.files.map((f) => `  file: ${f.path ?? f.name}`));
  if (msg.kind === 'plan' && msg.buttons?.some((b) => !b.disabled)) out.push(paint(colour, C.dim, `approve ${msg.planId}  ·  reject ${msg.planId}`));
  // A text chat has no buttons: say what to type instead (the label often names the command already).
  for (const b of msg.buttons ?? []) if (b.command && !b.disabled) out.push(paint(colour, C.dim, b.label.includes(b.command) ? `→ ${b.label.replace(b.command, `type ${b.command}`)}` : `→ ${b.label}: type ${b.command}`));
  if (msg.ref && msg.kind !== 'error') out.push(paint(colour, C.dim, `(${msg.ref})`));
  return out.join('\n');
}
