import type { Subject } from './rule';
import { at } from './values';

/** Read replicas have no backups of their own (the primary's count); the Cloud SQL rules skip them. */
export function isPrimaryInstance(r: Subject): boolean {
  const master = at(r.props, 'masterInstanceName');
  return master === undefined || master === null || master === '';
}

export const BACKUP_CONFIGURATION = ['settings', 'backupConfiguration'] as const;
