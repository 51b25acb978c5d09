/** Seconds in a protobuf Duration string as the Google providers take it ("3600s", "1.5s"); undefined if not one. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return m ? Number(m[1]) : undefined;
}
