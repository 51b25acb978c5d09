/**
 * Payload object names of Redis backups: the method is read back from the name, so restore and verify know
 * whether they hold an RDB file or a Lifeboat key stream without trusting anything but the manifest.
 */
import { payloadName } from '../contract/layout';
import { runtimeError } from '../errors';

export const REDIS_METHODS = ['rdb', 'dump'] as const;
export type RedisMethod = (typeof REDIS_METHODS)[number];

/** The `dump` method's key stream (runner/redis/format.ts), zstd-compressed. */
export const KEY_STREAM_PAYLOAD = 'keys.lbrk.zst';

export function redisPayloadName(method: RedisMethod, encrypted: boolean): string {
  return method === 'rdb' ? payloadName('redis', encrypted) : KEY_STREAM_PAYLOAD + (encrypted ? '.age' : '');
}

export function methodOfPayload(object: string, where: string): RedisMethod {
  const plain = object.replace(/\.age$/, '');
  if (plain === payloadName('redis', false)) return 'rdb';
  if (plain === KEY_STREAM_PAYLOAD) return 'dump';
  throw runtimeError('payload_unknown', `backup ${where} has a payload named ${JSON.stringify(object)}, which is neither an RDB snapshot nor a key stream`);
}
