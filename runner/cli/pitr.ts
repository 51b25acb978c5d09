/**
 * `lifeboat pitr init|backup|restore|drill|heartbeat`: point-in-time recovery of self-hosted PostgreSQL on
 * pgBackRest. Each subcommand loads its command module only when it runs.
 */
import type { Command } from 'commander';
import type { RunContext } from '../context';
import { registerPitrInit } from './pitr-init';
import { registerPitrBackup } from './pitr-backup';
import { registerPitrRestore } from './pitr-restore';
import { registerPitrDrill } from './pitr-drill';
import { registerPitrHeartbeat } from './pitr-heartbeat';

export function registerPitr(program: Command, ctx: RunContext, setExit: (code: number) => void): void {
  const pitr = program.command('pitr').description('point-in-time recovery on pgBackRest: init, backup, restore, drill, heartbeat');
  registerPitrInit(pitr, ctx, setExit);
  registerPitrBackup(pitr, ctx, setExit);
  registerPitrRestore(pitr, ctx, setExit);
  registerPitrDrill(pitr, ctx, setExit);
  registerPitrHeartbeat(pitr, ctx, setExit);
}
