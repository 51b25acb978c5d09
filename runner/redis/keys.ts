/**
 * Key-by-key copying: SCAN + DUMP + PTTL out of a live server (the `dump` method, and restores from an RDB
 * loaded into a scratch server), RESTORE ... REPLACE ABSTTL into a target. Pipelined in batches so a round
 * trip carries hundreds of keys.
 */
import type Redis from 'ioredis';
import { runtimeError } from '../errors';
import type { KeyRecord } from './format';

const BATCH = 500;

export interface ReadStats {
  /** Keys written out per logical database. */
  keys: Record<string, number>;
  /** Of those, keys with an expiry. */
  expiring: Record<string, number>;
}

/**
 * Every key of every database in `dbs`, as records. SCAN may return a key twice (while the server rehashes), so
 * keys seen are remembered per database: memory grows with the number of keys of one database, not with their
 * values. A key deleted or expired between SCAN and DUMP is skipped.
 */
export async function* readKeys(client: Redis, dbs: number[], now: () => number, stats: ReadStats, signal?: AbortSignal): AsyncGenerator<KeyRecord> {
  for (const db of dbs) {
    await client.select(db);
    yield { type: 'db', db };
    const seen = new Set<string>();
    let count = 0;
    let expiring = 0;
    let cursor = '0';
    do {
      signal?.throwIfAborted();
      const [next, found] = await client.scanBuffer(cursor, 'COUNT', 1000);
      cursor = next.toString();
      const fresh = found.filter((k) => {
        const id = k.toString('latin1');
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      for (let i = 0; i < fresh.length; i += BATCH) {
        const batch = fresh.slice(i, i + BATCH);
        const p = client.pipeline();
        for (const k of batch) p.dumpBuffer(k).pttl(k);
        const results = (await p.exec()) ?? [];
        const readAt = now();
        for (let j = 0; j < batch.length; j++) {
          const [dumpErr, value] = results[2 * j]!;
          const [ttlErr, pttl] = results[2 * j + 1]!;
          if (dumpErr || ttlErr) throw runtimeError('redis_read_failed', `reading a key of database ${db} failed: ${(dumpErr ?? ttlErr)!.message}`);
          if (value === null || pttl === -2) continue; // gone since SCAN
          const ms = Number(pttl);
          const expireAt = ms >= 0 ? readAt + ms : -1;
          if (expireAt >= 0) expiring++;
          count++;
          yield { type: 'key', key: batch[j]!, expireAt, value: value as Buffer };
        }
      }
    } while (cursor !== '0');
    stats.keys[String(db)] = count;
    stats.expiring[String(db)] = expiring;
  }
}

export interface WriteStats {
  /** Keys restored per logical database. */
  restored: Record<string, number>;
  /** Keys whose expiry had passed: not restored (Redis would drop them at once). */
  expired: Record<string, number>;
}

/** Writes records into `client`: RESTORE key expireAt value REPLACE ABSTTL, in pipelined batches. */
export async function writeKeys(client: Redis, records: AsyncIterable<KeyRecord>, now: () => number, signal?: AbortSignal): Promise<WriteStats> {
  const stats: WriteStats = { restored: {}, expired: {} };
  let db = 0;
  let pending: { key: Buffer; expireAt: number; value: Buffer }[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const p = client.pipeline();
    for (const r of pending) p.call('RESTORE', r.key, String(r.expireAt < 0 ? 0 : r.expireAt), r.value, 'REPLACE', 'ABSTTL');
    const results = (await p.exec()) ?? [];
    results.forEach(([err], i) => {
      if (err) throw runtimeError('redis_restore_failed', `RESTORE of key #${i + 1} of a batch in database ${db} failed: ${err.message}`);
    });
    stats.restored[String(db)] = (stats.restored[String(db)] ?? 0) + pending.length;
    pending = [];
  };
  for await (const r of records) {
    signal?.throwIfAborted();
    if (r.type === 'db') {
      await flush();
      db = r.db;
      try {
        await client.select(db);
      } catch (e) {
        throw runtimeError('redis_restore_failed', `the target cannot select database ${db}: ${(e as Error).message}`, 'The target needs at least as many databases (the "databases" setting) as the source');
      }
      stats.restored[String(db)] ??= 0;
      continue;
    }
    if (r.expireAt >= 0 && r.expireAt <= now()) {
      stats.expired[String(db)] = (stats.expired[String(db)] ?? 0) + 1;
      continue;
    }
    pending.push(r);
    if (pending.length >= BATCH) await flush();
  }
  await flush();
  return stats;
}
