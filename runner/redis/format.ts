/**
 * The framed key format of `redis backup --method dump` (payload `keys.lbrk.zst[.age]`), written by hand because
 * no library frames DUMP payloads: it is a plain sequence of records, so it streams in both directions with
 * memory bounded by the largest single value.
 *
 *   header   8 bytes  "LBRKEYS1"
 *   'D'      1 byte   select a logical database, then  u32 BE  database number
 *   'K'      1 byte   a key, then  u32 BE key length, key bytes,
 *                                   i64 BE absolute expiry in Unix milliseconds (-1: no expiry),
 *                                   u32 BE value length, value bytes (the DUMP payload: Redis's own
 *                                   serialization with its RDB version and CRC64, checked by RESTORE)
 *   'E'      1 byte   end, then  u64 BE number of 'K' records: a stream without it is truncated
 *
 * Expiry is absolute (RESTORE ... ABSTTL) so a restored key dies when the original would have: restoring an
 * old backup of a session store does not resurrect sessions for their full TTL again.
 */
export const DUMP_MAGIC = Buffer.from('LBRKEYS1', 'latin1');

export type KeyRecord =
  | { type: 'db'; db: number }
  | { type: 'key'; key: Buffer; expireAt: number; value: Buffer };

export class FormatError extends Error {}

export async function* encodeRecords(records: AsyncIterable<KeyRecord>): AsyncGenerator<Buffer> {
  yield DUMP_MAGIC;
  let keys = 0n;
  for await (const r of records) {
    if (r.type === 'db') {
      const b = Buffer.alloc(5);
      b.write('D', 0, 'latin1');
      b.writeUInt32BE(r.db, 1);
      yield b;
    } else {
      const head = Buffer.alloc(5);
      head.write('K', 0, 'latin1');
      head.writeUInt32BE(r.key.length, 1);
      const mid = Buffer.alloc(12);
      mid.writeBigInt64BE(BigInt(r.expireAt), 0);
      mid.writeUInt32BE(r.value.length, 8);
      keys++;
      yield Buffer.concat([head, r.key, mid, r.value]);
    }
  }
  const end = Buffer.alloc(9);
  end.write('E', 0, 'latin1');
  end.writeBigUInt64BE(keys, 1);
  yield end;
}

/** Reads records back; throws FormatError on a bad header, an unknown tag, a bad count or a truncated stream. */
export async function* decodeRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<KeyRecord> {
  let buf = Buffer.alloc(0);
  let pos = 0;
  const it = chunks[Symbol.asyncIterator]();
  let ended = false;
  const need = async (n: number): Promise<boolean> => {
    while (buf.length - pos < n) {
      if (ended) return false;
      const next = await it.next();
      if (next.done) {
        ended = true;
        return false;
      }
      buf = Buffer.concat([buf.subarray(pos), next.value]);
      pos = 0;
    }
    return true;
  };
  const take = async (n: number, what: string): Promise<Buffer> => {
    if (!(await need(n))) throw new FormatError(`truncated key stream: expected ${what}`);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };

  const magic = await take(DUMP_MAGIC.length, 'the header');
  if (!magic.equals(DUMP_MAGIC)) throw new FormatError('not a Lifeboat Redis key stream (bad header)');
  let keys = 0n;
  for (;;) {
    const tag = (await take(1, 'a record or the end marker')).toString('latin1');
    if (tag === 'D') {
      yield { type: 'db', db: (await take(4, 'a database number')).readUInt32BE(0) };
    } else if (tag === 'K') {
      const keyLen = (await take(4, 'a key length')).readUInt32BE(0);
      const key = Buffer.from(await take(keyLen, 'a key'));
      const mid = await take(12, 'an expiry and a value length');
      const expireAt = Number(mid.readBigInt64BE(0));
      const valueLen = mid.readUInt32BE(8);
      const value = Buffer.from(await take(valueLen, 'a value'));
      keys++;
      yield { type: 'key', key, expireAt, value };
    } else if (tag === 'E') {
      const count = (await take(8, 'the key count')).readBigUInt64BE(0);
      if (count !== keys) throw new FormatError(`key stream says ${count} keys, but holds ${keys}`);
      if (await need(1)) throw new FormatError('data after the end marker of the key stream');
      return;
    } else {
      throw new FormatError(`unknown record tag 0x${Buffer.from(tag, 'latin1').toString('hex')} in the key stream`);
    }
  }
}
