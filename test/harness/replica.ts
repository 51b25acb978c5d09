/**
 * Streaming replicas of harness clusters for tests: pg_basebackup -R (as the cluster's OS user, into a temp dir
 * it owns) and the copy started as a hot standby on its own port. startPostgres already allows replication
 * connections from localhost with the password.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { clusterTempDir, startPostgres, type PgCluster } from './postgres';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export async function startReplica(primary: PgCluster): Promise<PgCluster> {
  const dir = clusterTempDir('lifeboat-replica-');
  const dataDir = path.join(dir, 'data');
  const basebackup = path.join(primary.binDir, 'pg_basebackup');
  const args = ['-h', primary.host, '-p', String(primary.port), '-U', primary.user, '-D', dataDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync', '--no-password'];
  // --checkpoint=fast: the default spread checkpoint makes pg_basebackup wait ~90 s on an idle test server.
  // The password goes through the environment (runuser keeps it), never argv.
  const env = { PATH: process.env.PATH, PGPASSWORD: primary.password };
  try {
    execFileSync(isRoot ? 'runuser' : basebackup, isRoot ? ['-u', 'postgres', '--', basebackup, ...args] : args, {
      env,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`pg_basebackup from port ${primary.port} failed: ${stderr || (e as Error).message}`);
  }
  const replica = await startPostgres({ dataDir, dir, user: primary.user, password: primary.password, settings: { hot_standby: 'on' } });
  const stop = replica.stop;
  replica.stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return replica;
}

/**
 * Resolves once the replica has replayed everything the primary has written so far. The insert position, not
 * pg_current_wal_lsn(): harness clusters run synchronous_commit = off, so a commit that has returned may still
 * sit unwritten in the WAL buffers for up to wal_writer_delay, behind the write position.
 */
export async function waitForReplay(primary: PgCluster, replica: PgCluster, timeoutMs = 60_000): Promise<void> {
  const [{ lsn }] = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')) as [{ lsn: string }];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await replica.query<{ done: boolean }>(`SELECT coalesce(pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn, false) AS done`);
    if (row?.done) return;
    if (Date.now() > deadline) throw new Error(`replica on port ${replica.port} did not replay up to ${lsn} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the replica has received WAL it has not replayed (replay paused, primary written to). */
export async function waitForReplayBehind(replica: PgCluster, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await replica.query<{ behind: boolean }>(`SELECT coalesce(pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn(), false) AS behind`);
    if (row?.behind) return;
    if (Date.now() > deadline) throw new Error(`replica on port ${replica.port} received nothing new within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
