import type { Button, OutMessage } from './message.js';
import type { DerpCheck, NodeCheck, RuleFinding } from '../planning/derp-check.js';
import type { PathTransition } from '../stores/alert-ledger.js';

export const DERP_COLUMNS = ['node', 'IP', 'formula port', 'actual port', 'router rule', 'netcheck', 'peers', 'verdict'];

function ruleCell(r: RuleFinding): string {
  switch (r.kind) {
    case 'ok':
      return `ok ${r.rule.id}${r.owned ? '' : " (not labgate's)"}`;
    case 'missing':
      return 'missing';
    case 'disabled':
      return `disabled ${r.rule.id}`;
    case 'wrong':
      return `wrong ${r.rule.id} → ${r.rule.fields['to-addresses'] ?? '?'}:${r.rule.fields['to-ports'] || r.rule.fields['dst-port'] || '?'}`;
    case 'not-checked':
      return `not checked (${r.reason})`;
  }
}

function netcheckCell(c: NodeCheck): string {
  const n = c.netcheck;
  if (!n) return 'failed';
  const nat = n.MappingVariesByDestIP === true ? 'hard NAT' : n.MappingVariesByDestIP === false ? 'easy NAT' : 'NAT unknown';
  const derp = n.PreferredDERP ? `DERP ${n.PreferredDERP}${c.homeDerp ? ` (home ${c.homeDerp})` : ''}` : 'DERP ?';
  return `UDP ${n.UDP ? 'yes' : 'no'}, ${nat}, ${derp}`;
}

function peersCell(c: NodeCheck): string {
  if (!c.peers) return 'failed';
  const count = (k: string) => c.peers!.filter((p) => p.kind === k).length;
  const derp = c.peers.filter((p) => p.kind === 'derp');
  const named = derp.length ? ` (${derp.map((p) => `${p.host}@${p.via || '?'}`).join(', ')})` : '';
  return `${count('direct')} direct, ${count('peer-relay')} peer-relay, ${derp.length} DERP${named}`;
}

function verdictCell(c: NodeCheck): string {
  return c.fixable ? `${c.verdict} (fix: /router sync)` : c.verdict;
}

/** One table row per node: the /derp-check columns. */
export function derpRow(c: NodeCheck): string[] {
  return [
    c.node.name,
    c.node.ip ?? '?',
    c.formulaPort === undefined ? '-' : String(c.formulaPort),
    c.actualPort === undefined ? '?' : String(c.actualPort),
    ruleCell(c.rule),
    netcheckCell(c),
    peersCell(c),
    verdictCell(c),
  ];
}

/** The /derp-check report: headline, the table, the reasons per node, and the fix button. */
export function derpReport(check: DerpCheck, fixButton?: Button): OutMessage {
  const counts = new Map<string, number>();
  for (const c of check.nodes) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const tally = ['direct-capable', 'relayed', 'misconfigured', 'unknown']
    .filter((v) => counts.get(v))
    .map((v) => `${counts.get(v)} ${v}`)
    .join(', ');
  const text = check.nodes.length ? `Tailscale paths of ${check.nodes.length} Traefik node${check.nodes.length === 1 ? '' : 's'}: ${tally}` : 'No Traefik node to check';
  const lines = [
    ...check.nodes.filter((c) => c.reasons.length).map((c) => `${c.node.name}: ${c.reasons.join('; ')}`),
    ...check.notes,
  ];
  return {
    kind: 'report',
    text,
    lines: lines.length ? lines : undefined,
    // A narrow terminal leaves the ports and the IP out first: the reasons above name a wrong port.
    table: check.nodes.length ? { columns: DERP_COLUMNS, rows: check.nodes.map(derpRow), dropOrder: ['formula port', 'actual port', 'IP'] } : undefined,
    buttons: fixButton && check.fixable ? [fixButton] : undefined,
  };
}

function peerNow(c: NodeCheck, host: string): string {
  const p = c.peers?.find((x) => x.host === host);
  if (!p) return '?';
  if (p.kind === 'derp') return `DERP (${p.via || '?'})`;
  return `${p.kind} ${p.via}`;
}

/** The alert for one node's changes since the last check, with the diagnosis of this check. */
export function pathAlertMessage(c: NodeCheck, transitions: PathTransition[], fixButton?: Button): OutMessage {
  const fell = transitions.some((t) => t.to === 'derp');
  const recovered = transitions.some((t) => t.from === 'derp');
  const node = c.node.name;
  const text = fell && recovered ? `${node}: Tailscale paths changed` : fell ? `${node} fell back to DERP relays` : `${node} is direct again`;
  const lines = transitions.map((t) => {
    if (t.subject === 'node') return t.to === 'derp' ? `${node}: direct → DERP` : `${node}: DERP → direct`;
    const host = t.subject.replace(/^peer:/, '');
    return `${host}: ${t.from === 'derp' ? 'DERP' : t.from} → ${peerNow(c, host)}`;
  });
  const diagnosis = c.reasons.length ? c.reasons.join('; ') : 'no problem found';
  return {
    kind: 'alert',
    text,
    lines: [...lines, `Diagnosis (${c.verdict}): ${diagnosis}`],
    table: { columns: DERP_COLUMNS, rows: [derpRow(c)] },
    buttons: fixButton && c.fixable ? [fixButton] : undefined,
  };
}
