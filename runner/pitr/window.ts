/**
 * The recoverable window: from the end of the oldest backup in the repository to now (as far as WAL has been
 * archived). A target outside it is refused before anything is restored, naming the window. pgBackRest picks
 * the newest backup that ended before the target by itself; Lifeboat finds the same one to report it.
 */
import { runtimeError, usageError } from '../errors';
import type { PgbackrestBackup, StanzaInfo } from './pgbackrest';

export function backupForTarget(info: StanzaInfo, target: Date, flag: string): PgbackrestBackup {
  if (info.backups.length === 0) {
    throw runtimeError('pitr_no_backup', `the repository of "${info.name}" holds no backup yet`, 'Run "lifeboat pitr backup --type full" first');
  }
  const oldest = info.backups.reduce((a, b) => (a.stoppedAt < b.stoppedAt ? a : b));
  const candidates = info.backups.filter((b) => b.stoppedAt <= target);
  if (candidates.length === 0) {
    throw usageError(
      'target_time_outside_window',
      `${flag} ${target.toISOString()} is before the recoverable window of "${info.name}", which starts at ${oldest.stoppedAt.toISOString()} (end of backup ${oldest.label})`,
    );
  }
  return candidates.reduce((a, b) => (a.stoppedAt > b.stoppedAt ? a : b));
}
