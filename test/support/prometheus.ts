import { execFileSync } from 'node:child_process';

export interface Sample {
  /** The sample's name (a histogram's _bucket, _sum, _count included). */
  name: string;
  /** The family it belongs to, as the exposition's # TYPE line names it. */
  family: string;
  type: string;
  labels: Record<string, string>;
  value: number;
}

// Debian's python3-prometheus-client: an independent reader of the text format labgate serves.
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        v = s.value
        out.append({"name": s.name, "family": fam.name, "type": fam.type, "labels": s.labels, "value": v if v == v and abs(v) != float("inf") else str(v)})
print(json.dumps(out))
`;

/** Parses a Prometheus text exposition with prometheus_client's parser (throws when it cannot). */
export function parseExposition(text: string): Sample[] {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', PARSE], { input: text, encoding: 'utf8' })) as Sample[];
}

/** GET `/metrics` and parse it. */
export async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`${base}/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** The samples named `name` whose labels include `labels`. */
export function samples(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples' values (0 when none). */
export function total(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples(all, name, labels).reduce((n, s) => n + Number(s.value), 0);
}
