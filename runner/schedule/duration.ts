/**
 * Durations in the schedule file: "6h", "90m", "1h30m", "2.5s", "2d". Milliseconds, since tests and jitter use
 * fractions of a second (the CLI's --max-age style flags count whole seconds and refuse fractions of them).
 */
const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const v = text.trim();
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|[smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) return undefined;
  return Math.round(parts.reduce((n, p) => n + Number(p[1]) * UNITS_MS[p[2]!]!, 0));
}
