/**
 * `restore --create` of a backup that recorded its database's properties (runner/pg/database-properties.ts): the
 * database is created with the source's encoding and locale, and given its owner, connection limit, comment,
 * ACL and settings once the restore is in, as `pg_restore --create` would. A target server that cannot take the
 * locale (it lacks it, or has no ICU) stops the restore before anything is created, unless
 * `--allow-locale-change` lets it use the server's default locale instead (the encoding is kept; where the default
 * locale does not fit it, C).
 */
import type { Logger } from '../log';
import type { DatabaseProperties } from '../contract/globals';
import { runtimeError, usageError } from '../errors';
import { connectPg, withDatabase, type ConnInfo } from '../pg/connection';
import { createDatabaseSql, databasePropertiesSql } from '../pg/database-properties';
import { createDatabase } from '../pg/databases';

/**
 * SQLSTATEs of CREATE DATABASE refusing a locale: a name the server's C library lacks (42809), an encoding that
 * does not fit it (22023), no ICU in the build (0A000).
 */
const LOCALE_REFUSED = new Set(['42809', '22023', '0A000']);

async function serverFacts(conn: ConnInfo, flag: string): Promise<{ version: number; collate: string; ctype: string }> {
  const c = await connectPg(withDatabase(conn, 'postgres'), flag);
  try {
    const r = await c.query<{ v: string; collate: string; ctype: string }>(
      `SELECT current_setting('server_version_num') AS v, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = 'template0'`,
    );
    const row = r.rows[0]!;
    return { version: Number(row.v), collate: row.collate, ctype: row.ctype };
  } finally {
    await c.end().catch(() => undefined);
  }
}

function describeLocale(p: DatabaseProperties): string {
  const locale = p.localeProvider === 'libc' ? (p.collate === p.ctype ? p.collate : `${p.collate}/${p.ctype}`) : `${p.localeProvider} ${p.locale ?? '?'}`;
  return `encoding ${p.encoding}, locale ${locale}`;
}

/**
 * Creates the target database as the source's was (encoding and locale). Returns a note when the locale was
 * changed (--allow-locale-change), else null.
 */
export async function createDatabaseAsSource(
  target: ConnInfo,
  flag: string,
  props: DatabaseProperties,
  allowLocaleChange: boolean,
  logger: Pick<Logger, 'warn'>,
): Promise<string | null> {
  const facts = await serverFacts(target, flag);
  try {
    if (facts.version < 150000 && props.localeProvider !== 'libc') {
      throw Object.assign(new Error(`PostgreSQL ${Math.floor(facts.version / 10000)} has no ${props.localeProvider} locale provider for databases`), { code: '0A000' });
    }
    await createDatabase(target, flag, createDatabaseSql(target.database, props, facts.version, null));
    return null;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (!err.code || !LOCALE_REFUSED.has(err.code)) throw e;
    if (!allowLocaleChange) {
      throw usageError(
        'locale_unavailable',
        `the target server ${target.host}:${target.port} cannot create database "${target.database}" with the source's ${describeLocale(props)}: ${err.message ?? err.code}; nothing was created`,
        'Install the locale on the target server, or pass --allow-locale-change to create the database with the server\'s default locale (sort order and character classes may then differ)',
      );
    }
    for (const locale of [{ collate: facts.collate, ctype: facts.ctype }, { collate: 'C', ctype: 'C' }]) {
      try {
        await createDatabase(target, flag, createDatabaseSql(target.database, props, facts.version, locale));
      } catch (again) {
        if (LOCALE_REFUSED.has((again as { code?: string }).code ?? '')) continue;
        throw again;
      }
      const note = `--allow-locale-change: database "${target.database}" was created with locale ${locale.collate} instead of the source's ${describeLocale(props)} (${err.message ?? err.code})`;
      logger.warn({ database: target.database }, note);
      return note;
    }
    throw usageError('locale_unavailable', `the target server cannot create database "${target.database}" with encoding ${props.encoding} in any locale: ${err.message ?? err.code}; nothing was created`);
  }
}

/**
 * Gives the restored database its source's owner, connection limit, comment, ACL and settings, in one
 * transaction. As pg_restore does, --no-owner leaves the owner and --no-privileges the ACL as the restore made
 * them; what names a role the target lacks (possible only with both) is left out too.
 */
export async function applyDatabaseProperties(
  target: ConnInfo,
  flag: string,
  props: DatabaseProperties,
  opts: { noOwner: boolean; noPrivileges: boolean },
): Promise<void> {
  const c = await connectPg(withDatabase(target, 'postgres'), flag);
  try {
    const names = [props.owner, ...(props.acl ?? []).flatMap((a) => (a.grantee === null ? [] : [a.grantee])), ...props.roleSettings.map((r) => r.role)];
    const have = new Set((await c.query<{ n: string }>(`SELECT rolname AS n FROM pg_roles WHERE rolname = ANY($1)`, [names])).rows.map((r) => r.n));
    const setOwner = !opts.noOwner && have.has(props.owner);
    const applied: DatabaseProperties = {
      ...props,
      acl: opts.noPrivileges || props.acl === null ? null : props.acl.filter((a) => a.grantee === null || have.has(a.grantee)),
      roleSettings: props.roleSettings.filter((r) => have.has(r.role)),
    };
    await c.query('BEGIN');
    for (const sql of databasePropertiesSql(target.database, applied, { setOwner })) {
      try {
        await c.query(sql);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        throw runtimeError(
          'database_properties_failed',
          `giving database "${target.database}" its source's properties failed at "${sql}": ${err.message ?? String(e)}`,
          err.code === '42501'
            ? `User "${target.user}" may not do that on ${target.host}:${target.port}: restore as a superuser or the owner's member, or pass --no-owner --no-privileges`
            : undefined,
          e,
        );
      }
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await c.end().catch(() => undefined);
  }
}
