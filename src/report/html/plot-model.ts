import { z } from "zod";

// The campaign plot's model (afl-plot for xmcfuzz): one series per quantity over the campaign's
// elapsed time, read from the `history` of a campaign's stats.json. Pure.

const historyPoint = z.object({
  t: z.number().finite().nonnegative(),
  execs: z.number().finite().nonnegative(),
  execsPerSec: z.number().finite().nonnegative(),
  coverageBits: z.number().finite().nonnegative(),
  corpus: z.number().finite().nonnegative(),
  signatures: z.number().finite().nonnegative(),
});

const statsFile = z.object({
  node: z.string().optional(),
  seed: z.union([z.string(), z.number()]).optional(),
  history: z.array(historyPoint),
});

export type SeriesKey = "execsPerSec" | "coverageBits" | "corpus" | "signatures";

export interface Series {
  readonly key: SeriesKey;
  readonly label: string;
  /** [elapsed ms, value], in time order. */
  readonly points: readonly (readonly [number, number])[];
  readonly last: number;
  readonly max: number;
}

export interface PlotModel {
  readonly title: string;
  readonly node?: string;
  /** Elapsed time of the last point (ms). */
  readonly spanMs: number;
  readonly execs: number;
  readonly series: readonly Series[];
}

const SERIES: readonly { key: SeriesKey; label: string }[] = [
  { key: "execsPerSec", label: "execs/s" },
  { key: "coverageBits", label: "coverage bits" },
  { key: "corpus", label: "corpus size" },
  { key: "signatures", label: "unique signatures" },
];

/** The plot of a parsed stats.json document, or why it cannot be plotted (one line naming the field). */
export function plotModel(json: unknown, title: string): PlotModel | string {
  const parsed = statsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`;
  }
  const history = [...parsed.data.history].sort((a, b) => a.t - b.t);
  if (history.length === 0) return "history: empty (the campaign wrote no stats yet)";
  const last = history[history.length - 1]!;
  return {
    title,
    ...(parsed.data.node !== undefined ? { node: parsed.data.node } : {}),
    spanMs: last.t,
    execs: last.execs,
    series: SERIES.map(({ key, label }) => {
      const points = history.map((p) => [p.t, p[key]] as const);
      return { key, label, points, last: last[key], max: Math.max(...points.map(([, v]) => v)) };
    }),
  };
}
