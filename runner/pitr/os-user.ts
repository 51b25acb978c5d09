/**
 * The cluster's OS user. pgBackRest must run as the user that owns the data directory (the server runs
 * `archive_command` as that user, and a restored data directory must belong to it or PostgreSQL refuses to
 * start). A runner started as root (a container, a test) runs pgBackRest and the drill's server as that user and
 * hands it what it creates; any other runner must be that user.
 */
import { promises as fs } from 'node:fs';
import { usageError } from '../errors';

export interface OsUser {
  uid: number;
  gid: number;
  /** Options for child_process.spawn: switch to the user only when we are not already it. */
  spawnIds(): { uid?: number; gid?: number };
  chown(file: string): Promise<void>;
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

export function osUser(uid: number, gid: number): OsUser {
  const me = currentUid();
  return {
    uid,
    gid,
    spawnIds: () => (me === 0 && uid !== 0 ? { uid, gid } : {}),
    async chown(file) {
      if (me === 0) await fs.chown(file, uid, gid);
    },
  };
}

/**
 * The owner of `dir`: the data directory for `pitr init`, the configuration folder init handed to that user for
 * every later command (so a restore works on a host whose cluster is gone). Refused unless we are root or that user.
 */
export async function ownerOf(dir: string, what = '--pgdata'): Promise<OsUser> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch (e) {
    throw usageError('pgdata_invalid', `${what} expected the cluster's data directory, got ${JSON.stringify(dir)} (${(e as NodeJS.ErrnoException).code})`);
  }
  return checkedUser(st.uid, st.gid, `the owner of ${dir}`);
}

export function checkedUser(uid: number, gid: number, what: string): OsUser {
  const me = currentUid();
  if (uid === 0) throw usageError('pitr_os_user_invalid', `${what} is root; PostgreSQL and pgBackRest run as the cluster's own OS user`);
  if (me !== 0 && me !== uid) {
    throw usageError('pitr_os_user_mismatch', `pgBackRest must run as ${what} (uid ${uid}), this runner is uid ${me}`, 'Run lifeboat as that user, or as root');
  }
  return osUser(uid, gid);
}
