/** `lifeboat pitr backup`: a pgBackRest backup (full, differential or incremental) of a source set up by init. */
import type { RunContext } from '../context';
import { runtimeError } from '../errors';
import { readPitrConfig, type PitrConfig } from '../pitr/config';
import { ownerOf } from '../pitr/os-user';
import { runPgbackrest, stanzaInfo, type PgbackrestBackup } from '../pitr/pgbackrest';

export const PITR_BACKUP_TYPES = ['full', 'diff', 'incr'] as const;
export type PitrBackupType = (typeof PITR_BACKUP_TYPES)[number];

export interface PitrBackupOptions {
  configDir: string;
  source: string;
  type: PitrBackupType;
  /** The database password, when the socket asks for one. */
  pgPassword?: string;
}

export interface PitrBackupResult {
  config: PitrConfig;
  backup: PgbackrestBackup;
}

export async function runPitrBackup(opts: PitrBackupOptions, deps: { ctx: RunContext }): Promise<PitrBackupResult> {
  const { ctx } = deps;
  const { cfg, paths } = await readPitrConfig(opts.configDir, opts.source);
  const user = await ownerOf(paths.dir, 'the PITR configuration folder');
  const pg = { paths, source: cfg.source, user, env: ctx.env, pgPassword: opts.pgPassword, signal: ctx.signal, progress: ctx.stderr };
  const before = new Set((await stanzaInfo(pg)).backups.map((b) => b.label));
  await runPgbackrest('backup', [`--type=${opts.type}`], pg);
  const after = (await stanzaInfo(pg)).backups.filter((b) => !before.has(b.label));
  const backup = after[after.length - 1];
  if (!backup) throw runtimeError('pitr_backup_missing', 'pgbackrest backup succeeded but info lists no new backup');
  return { config: cfg, backup };
}
