/**
 * Redis connection settings, parsed once from `--redis-url`. The password is registered as a secret before
 * anything else can print it; the safe form for messages is `describeRedis`. Connections go through ioredis;
 * failures become LifeboatErrors without credentials (wrong password: exit 2, unreachable: exit 1).
 */
import Redis, { type RedisOptions } from 'ioredis';
import { runtimeError, usageError } from '../errors';
import { redact, registerSecret } from '../redact';
import { urlPartDecoder } from '../pg/connection';

export interface RedisConnInfo {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

export function parseRedisUrl(url: string | undefined, flag = '--redis-url'): RedisConnInfo {
  if (!url) {
    throw usageError('redis_url_missing', `no Redis given: ${flag} (or REDIS_URL) expected a redis:// or rediss:// URL`, 'Example: --redis-url redis://:PASSWORD@cache.internal:6379');
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError('redis_url_invalid', `${flag} is not a valid URL`, 'Expected redis://[USER:PASSWORD@]HOST[:PORT]');
  }
  const decode = urlPartDecoder(flag, 'redis_url_invalid');
  if (u.password) registerSecret(decode(u.password, 'password'));
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw usageError('redis_url_invalid', `${flag} expected a redis:// or rediss:// URL, got scheme "${u.protocol.replace(/:$/, '')}"`);
  }
  if (!u.hostname) throw usageError('redis_url_invalid', `${flag} names no host`);
  if (u.pathname && u.pathname !== '/') {
    throw usageError('redis_url_invalid', `${flag} names a database (${u.pathname}); backups and restores cover every logical database, drop the path`);
  }
  const port = u.port ? Number(u.port) : 6379;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    username: u.username ? decode(u.username, 'user') : undefined,
    password: u.password ? decode(u.password, 'password') : undefined,
    tls: u.protocol === 'rediss:',
  };
}

/** For messages and manifests: no credentials. */
export function describeRedis(c: RedisConnInfo): string {
  return `${c.tls ? 'rediss' : 'redis'}://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
}

export function ioredisOptions(c: RedisConnInfo, db = 0): RedisOptions {
  return {
    host: c.host,
    port: c.port,
    username: c.username,
    password: c.password,
    db,
    tls: c.tls ? {} : undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 10_000,
  };
}

/** A connected client, or a LifeboatError naming the server (never the password). */
export async function connectRedis(c: RedisConnInfo, db = 0): Promise<Redis> {
  const client = new Redis(ioredisOptions(c, db));
  // ioredis emits the server's reply (WRONGPASS, ...) as an event and rejects connect() with a generic
  // "Connection is closed": keep the event's error, it says why.
  let firstError: unknown;
  client.on('error', (e: unknown) => {
    firstError ??= e;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw redisConnectError(firstError ?? e, c);
  }
  return client;
}

function redisConnectError(e: unknown, c: RedisConnInfo): Error {
  const msg = redact((e as Error)?.message ?? String(e));
  const where = describeRedis(c);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(msg)) {
    return usageError('redis_auth_failed', `Redis at ${where} refused the credentials (${msg.split('\n')[0]})`, 'Check the user and password in --redis-url');
  }
  return runtimeError('redis_unreachable', `cannot connect to Redis at ${where}: ${msg}`);
}

/** `INFO keyspace` → keys and keys with a TTL per logical database ("0", "3", ...). */
export function parseKeyspace(info: string): Record<string, { keys: number; expires: number }> {
  const out: Record<string, { keys: number; expires: number }> = {};
  for (const m of info.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)) {
    out[m[1]!] = { keys: Number(m[2]), expires: Number(m[3]) };
  }
  return out;
}

export async function keyspace(client: Redis): Promise<Record<string, { keys: number; expires: number }>> {
  return parseKeyspace(await client.info('keyspace'));
}

export async function serverVersion(client: Redis): Promise<string> {
  const m = /^redis_version:(\S+)/m.exec(await client.info('server'));
  return m ? m[1]! : 'unknown';
}
