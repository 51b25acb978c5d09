/**
 * PostgreSQL connection settings, parsed once from `--database-url` / `DATABASE_URL`.
 *
 * - parseDatabaseUrl(url, flag): validates the URL, registers the password as a secret at once, and returns a
 *   ConnInfo that never needs to be printed whole (describeConn gives the safe form).
 * - pgToolEnv(conn, baseEnv): the environment for pg_dump / pg_restore / psql. Credentials go through PG*
 *   variables, never argv, where `ps` would show them.
 * - connectPg(conn): a connected `pg` Client; connection failures become LifeboatErrors with the right exit
 *   code (wrong password / unknown database: 2, unreachable: 1) and no password in the message.
 * - withDatabase(conn, name): the same server and credentials, another database (`--create`, scratch restores).
 */
import { Client } from 'pg';
import { runtimeError, usageError, LifeboatError } from '../errors';
import { registerSecret } from '../redact';

export interface ConnInfo {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  /** Other libpq parameters from the query string (sslmode, sslrootcert, application_name, ...). */
  params: Record<string, string>;
}

/** URL query parameters and the libpq environment variable each maps to. */
const PARAM_ENV: Record<string, string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  channel_binding: 'PGCHANNELBINDING',
};

/** Environment variables that stand in for URL flags, for messages. */
const URL_FLAG_ENV: Record<string, string> = { '--database-url': 'DATABASE_URL', '--target-url': 'LIFEBOAT_TARGET_URL' };

export function parseDatabaseUrl(url: string | undefined, flag = '--database-url'): ConnInfo {
  if (!url) {
    const env = URL_FLAG_ENV[flag];
    throw usageError(
      'database_url_missing',
      `no database given: ${flag}${env ? ` (or ${env})` : ''} expected a postgres:// URL`,
      'Example: --database-url postgres://backup@db.internal:5432/shop',
    );
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // The text may hold a password: never echo it.
    throw usageError('database_url_invalid', `${flag} is not a valid URL`, 'Expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  const decode = urlPartDecoder(flag, 'database_url_invalid');
  if (u.password) registerSecret(decode(u.password, 'password'));
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw usageError(
      'database_url_invalid',
      `${flag} expected a postgres:// or postgresql:// URL, got scheme "${u.protocol.replace(/:$/, '')}"`,
    );
  }
  const params: Record<string, string> = {};
  for (const [k, v] of u.searchParams) params[k] = v;
  // libpq allows a socket directory as ?host=/path; the URL host then may be empty.
  const host = params.host ?? decode(u.hostname.replace(/^\[|\]$/g, ''), 'host');
  delete params.host;
  const database = decode(u.pathname.replace(/^\//, ''), 'database name');
  const user = decode(u.username, 'user');
  if (!host) throw usageError('database_url_invalid', `${flag} names no host`, 'Expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  if (!user) throw usageError('database_url_invalid', `${flag} names no user`, 'Expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  if (!database) {
    throw usageError('database_url_invalid', `${flag} names no database`, 'Expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  const port = u.port ? Number(u.port) : 5432;
  return { host, port, user, password: u.password ? decode(u.password, 'password') : undefined, database, params };
}

/**
 * Percent-decoding of a URL's part that names the flag and the part when the encoding is malformed, never the
 * text (a password's malformed encoding is still the password: registered as a secret first).
 */
export function urlPartDecoder(flag: string, code: string): (text: string, part: string) => string {
  return (text, part) => {
    try {
      return decodeURIComponent(text);
    } catch {
      if (part === 'password') registerSecret(text);
      throw usageError(code, `${flag}: the ${part} in the URL has malformed percent-encoding (a % must be followed by two hex digits)`, 'Write a literal % as %25');
    }
  };
}

export function withDatabase(conn: ConnInfo, database: string): ConnInfo {
  return { ...conn, database, params: { ...conn.params } };
}

/** host:port/database, for messages. */
export function describeConn(conn: ConnInfo): string {
  return `${conn.host}:${conn.port}/${conn.database}`;
}

/**
 * The child environment for the PostgreSQL client tools: the caller's environment without any PG* variable
 * (a stray PGDATABASE must not redirect a restore), then ours. Messages in English so stderr can be parsed.
 */
export function pgToolEnv(conn: ConnInfo, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(baseEnv)) if (!k.startsWith('PG')) env[k] = v;
  env.PGHOST = conn.host;
  env.PGPORT = String(conn.port);
  env.PGUSER = conn.user;
  env.PGDATABASE = conn.database;
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  for (const [k, v] of Object.entries(conn.params)) {
    const name = PARAM_ENV[k];
    if (name) env[name] = v;
  }
  env.LC_MESSAGES = 'C';
  env.LC_ALL = 'C';
  return env;
}

function clientConfig(conn: ConnInfo): ConstructorParameters<typeof Client>[0] {
  const sslmode = conn.params.sslmode;
  const timeout = Number(conn.params.connect_timeout ?? '10');
  let ssl: boolean | { rejectUnauthorized: boolean } | undefined;
  if (sslmode === 'require' || sslmode === 'prefer' || sslmode === 'allow') ssl = { rejectUnauthorized: false };
  else if (sslmode === 'verify-ca' || sslmode === 'verify-full') ssl = { rejectUnauthorized: true };
  return {
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database,
    ssl,
    application_name: conn.params.application_name ?? 'lifeboat',
    connectionTimeoutMillis: (Number.isFinite(timeout) && timeout > 0 ? timeout : 10) * 1000,
  };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** Maps a connection-time error to a LifeboatError; `what` names the flag the URL came from. */
export function connectionError(e: unknown, conn: ConnInfo, what = '--database-url'): LifeboatError {
  const err = e as { code?: string; message?: string };
  const where = describeConn(conn);
  switch (err.code) {
    case '28P01':
    case '28000':
      return usageError(
        'auth_failed',
        `PostgreSQL at ${where} refused user "${conn.user}": ${err.code === '28P01' ? 'wrong password' : 'not allowed by pg_hba.conf'}`,
        `Check the user and password in ${what}`,
      );
    case '3D000':
      return usageError('database_missing', `database "${conn.database}" does not exist on ${conn.host}:${conn.port}`, `Check the database name in ${what}`);
    case '42501':
      return usageError('permission_denied', `user "${conn.user}" may not connect to ${where}`, 'Grant CONNECT on the database');
  }
  if ((err.code && UNREACHABLE.has(err.code)) || /timeout|terminated unexpectedly/i.test(err.message ?? '')) {
    return runtimeError(
      'db_unreachable',
      `cannot reach PostgreSQL at ${conn.host}:${conn.port} (${err.code ?? err.message ?? 'no answer'})`,
      `Check the host and port in ${what} and that the server is running; a retry may help`,
    );
  }
  return runtimeError('db_connect_failed', `cannot connect to PostgreSQL at ${where}: ${err.message ?? String(e)}`);
}

export async function connectPg(conn: ConnInfo, what?: string): Promise<Client> {
  const client = new Client(clientConfig(conn));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw connectionError(e, conn, what);
  }
  return client;
}

/** Quotes an identifier (schema, table, database name) for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted identifier's name (`"Odd ""Name"""` is `Odd "Name"`); a plain name stays as it is. */
export function unquoteIdent(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text;
}
