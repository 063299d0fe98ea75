/** One measured figure; `npm run bench -- --json` prints one of these per line. */
export interface Figure {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** What the figure should be compared with, measured in the same run (e.g. the floor). */
  note?: string;
}

export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A benchmark scenario: runs, returns its figures. Scenarios run one after another. */
export interface Scenario {
  name: string;
  run(): Promise<Figure[]>;
}
