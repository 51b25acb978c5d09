/**
 * Creating and dropping whole databases (restore --create, verify --restore-into). These connect to the
 * server's maintenance database `postgres` with the target URL's credentials.
 */
import { usageError } from '../errors';
import { connectPg, quoteIdent, withDatabase, type ConnInfo } from './connection';

export async function databaseExists(conn: ConnInfo, what?: string): Promise<boolean> {
  const c = await connectPg(withDatabase(conn, 'postgres'), what);
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [conn.database]);
    return (r.rowCount ?? 0) > 0;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** `sql`: the CREATE DATABASE statement to run (with encoding and locale: database-properties.ts); default a plain one. */
export async function createDatabase(conn: ConnInfo, what?: string, sql?: string): Promise<void> {
  const c = await connectPg(withDatabase(conn, 'postgres'), what);
  try {
    await c.query(sql ?? `CREATE DATABASE ${quoteIdent(conn.database)}`);
  } catch (e) {
    if ((e as { code?: string }).code === '42P04') {
      throw usageError('target_exists', `database "${conn.database}" already exists on ${conn.host}:${conn.port}`, 'Drop --create to restore into it, or choose a new name');
    }
    if ((e as { code?: string }).code === '42501') {
      throw usageError(
        'create_database_denied',
        `user "${conn.user}" may not create database "${conn.database}" on ${conn.host}:${conn.port}`,
        `Grant it CREATEDB (ALTER ROLE ${quoteIdent(conn.user)} CREATEDB), or create the database first and restore into it without --create`,
      );
    }
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Drops a database, disconnecting its sessions (PostgreSQL 13+). */
export async function dropDatabase(conn: ConnInfo, what?: string): Promise<void> {
  const c = await connectPg(withDatabase(conn, 'postgres'), what);
  try {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(conn.database)} WITH (FORCE)`);
  } finally {
    await c.end().catch(() => undefined);
  }
}
