/** Key counts of a loaded Redis snapshot against its manifest's. */
export interface DatabaseCheck {
  db: string;
  expected: number;
  actual: number;
  /** Keys with a TTL that expired since the backup (within what the manifest allows). */
  expiredSince: number;
  ok: boolean;
}

/** Compares loaded key counts with the manifest, allowing keys with a TTL to have expired since. */
export function compareKeyCounts(
  expected: Record<string, number>,
  expiring: Record<string, number>,
  actual: Record<string, number>,
): DatabaseCheck[] {
  const dbs = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort((a, b) => Number(a) - Number(b));
  return dbs.map((db) => {
    const e = expected[db] ?? 0;
    const a = actual[db] ?? 0;
    const missing = e - a;
    const ok = missing === 0 || (missing > 0 && missing <= (expiring[db] ?? 0));
    return { db, expected: e, actual: a, expiredSince: ok ? missing : 0, ok };
  });
}

/** Keys per logical database, from a keyspace reading. */
export function countsOf(ks: Record<string, { keys: number }>): Record<string, number> {
  return Object.fromEntries(Object.entries(ks).map(([db, c]) => [db, c.keys]));
}
