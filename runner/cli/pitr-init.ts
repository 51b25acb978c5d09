/** `lifeboat pitr init`: flags → runPitrInit (runner/commands/pitr-init.ts). */
import type { Command } from 'commander';
import { EVENTS, EVENT_FIELDS } from '../contract/events';
import type { RunContext } from '../context';
import { SOURCE_NAME_PATTERN } from '../contract/layout';
import { usageError } from '../errors';
import { runAction } from './action';
import { addDatabaseUrlOption, addJsonOption, addStorageOptions, databaseFrom, sourceFrom, type StorageFlags } from './options';
import { addPitrCommonOptions, cipherPassFrom, configDirFrom, pitrStorageFrom, type PitrCommonFlags } from './pitr-options';

interface InitFlags extends PitrCommonFlags, StorageFlags {
  pgdata?: string;
  databaseUrl?: string;
  encrypt?: boolean;
  apply?: boolean;
}

export function registerPitrInit(group: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const cmd = group.command('init').description("write pgBackRest's configuration for a cluster, create its stanza, set up WAL archiving");
  addStorageOptions(cmd);
  addDatabaseUrlOption(cmd);
  addPitrCommonOptions(cmd);
  cmd
    .option('--pgdata <dir>', "the cluster's data directory")
    .option('--encrypt', 'encrypt the repository (aes-256-cbc; the passphrase is kept in a 0600 file)')
    .option('--apply', 'set archive_mode, archive_command and archive_timeout with ALTER SYSTEM (else print them)');
  addJsonOption(cmd);
  cmd.action(async (flags: InitFlags) => {
    const fields: Record<string, unknown> = { [EVENT_FIELDS.engine]: 'postgres' };
    const code = await runAction(ctx, { succeeded: EVENTS.pitrInitSucceeded, failed: EVENTS.pitrInitFailed }, fields, async () => {
      const { runPitrInit } = await import('../commands/pitr-init');
      if (!flags.pgdata) throw usageError('pgdata_missing', "--pgdata expected the cluster's data directory, got nothing");
      const conn = databaseFrom(flags, ctx);
      const source = sourceFrom(flags, ctx) ?? conn.database;
      if (!SOURCE_NAME_PATTERN.test(source)) throw usageError('source_invalid', `--source expected letters, digits, ".", "_" or "-" (at most 63), got ${JSON.stringify(source)}`);
      fields[EVENT_FIELDS.source] = source;
      const storage = pitrStorageFrom(flags.storage ?? ctx.env.LIFEBOAT_STORAGE);
      const { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: keySecret } = ctx.env;
      const r = await runPitrInit(
        {
          conn,
          pgdata: flags.pgdata,
          storage,
          s3Endpoint: flags.s3Endpoint ?? ctx.env.LIFEBOAT_S3_ENDPOINT,
          s3Region: flags.s3Region ?? ctx.env.AWS_REGION,
          s3CaFile: ctx.env.AWS_CA_BUNDLE || undefined,
          s3Key: keyId && keySecret ? { accessKeyId: keyId, secretAccessKey: keySecret } : undefined,
          // The variables Lifeboat's own GCS client reads: one emulator endpoint and one CA for both.
          gcsEndpoint: ctx.env.STORAGE_EMULATOR_HOST || undefined,
          gcsCaFile: ctx.env.NODE_EXTRA_CA_CERTS || undefined,
          gcsKeyFile: ctx.env.GOOGLE_APPLICATION_CREDENTIALS || undefined,
          configDir: configDirFrom(flags, ctx),
          source,
          encrypt: !!flags.encrypt,
          cipherPass: cipherPassFrom(ctx),
          apply: !!flags.apply,
        },
        { ctx },
      );
      if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        const lines = [
          `pgBackRest stanza "${source}" created; repository ${r.config.repoPath}`,
          `configuration ${r.configFile}`,
        ];
        if (r.cipherFile) {
          lines.push(
            `encrypted: the passphrase is in ${r.cipherFile} (mode 0600). Keep a copy in your secret store:`,
            '  without it the repository cannot be read (a restore elsewhere takes it from LIFEBOAT_PITR_CIPHER_PASS).',
          );
        }
        const settingLines = Object.entries(r.settings).map(([k, v]) => `  ${k} = '${v}'`);
        if (r.applied) {
          lines.push('set with ALTER SYSTEM:', ...settingLines);
          lines.push(r.restartNeeded ? 'RESTART NEEDED: archive_mode (or wal_level) only changes when PostgreSQL restarts; then run "lifeboat pitr backup --type full".' : 'archiving checked: a WAL segment reached the repository.');
        } else {
          lines.push('set these in postgresql.conf (or with ALTER SYSTEM), then restart PostgreSQL:', ...settingLines);
          if (!r.restartNeeded) lines.push('(archive_mode is already on: a reload is enough)');
        }
        ctx.stdout.write(lines.join('\n') + '\n');
      }
      return {
        message: `pitr init of ${source}: stanza created in ${r.config.repoPath}${r.applied ? (r.restartNeeded ? ', settings applied, restart needed' : ', archiving checked') : ', settings printed'}`,
        fields: { encrypted: r.config.encrypted, applied: r.applied, restartNeeded: r.restartNeeded },
      };
    });
    setExit(code);
  });
}
