/**
 * The PITR drill of a managed database (RDS, Cloud SQL): proves the cloud's point-in-time window exists by
 * using it. Clones the source to the target into a throwaway instance (named DRILL_NAME_PREFIX + source + the
 * run's start, tagged DRILL_LABEL), connects to it with the source's credentials and database, checks the
 * heartbeats around the target and the row counts of a few tables, deletes it (no final snapshot) and reports
 * how long the clone took (the RTO) in the same report as the self-hosted drill.
 *
 * A drill killed before it could delete its clone leaves a tagged instance whose name says when its run
 * started; the next drill of the same source deletes such leftovers once they are older than the longest a
 * drill may wait (its --timeout), so a drill still running is never hit, and lists them in `staleRemoved`.
 */
import type { RunContext } from '../context';
import { pitrDrillReportKey } from '../contract/layout';
import { objective } from '../drill/report';
import { describeError } from '../errors';
import { connectPg, quoteIdent, type ConnInfo } from '../pg/connection';
import type { Storage } from '../storage/types';
import { checkRestoredHeartbeats, hasHeartbeats, heartbeatsAround, type Heartbeat, type HeartbeatsAround } from './heartbeat';
import {
  checkTargetInWindow,
  DRILL_LABEL,
  DRILL_NAME_PREFIX,
  drillCloneName,
  drillCloneStartedAt,
  MADE_BY_LABEL,
  MADE_BY_VALUE,
  statusReporter,
  type ManagedEndpoint,
  type ManagedPitrProvider,
} from './managed';
import { PITR_DRILL_REPORT_FORMAT_VERSION, type ManagedDrillDetails, type PitrDrillCheck, type PitrDrillReport } from './report';

export interface ManagedDrillOptions {
  provider: ManagedPitrProvider;
  /** The name reports and events use (drills/pitr/<source>/). */
  source: string;
  target: Date;
  /** The source database (DATABASE_URL): heartbeats and row counts are read there; the clone is reached with its credentials and database. */
  conn: ConnInfo;
  /** Tables to count rows in, "table" or "schema.table". */
  tables: string[];
  /** Where the report goes; none: printed only. */
  storage?: Storage;
  rpoTargetSeconds: number | null;
  rtoTargetSeconds: number | null;
  /** How long to wait for the clone (and the longest a live drill lasts, for the leftover rule). */
  timeoutMs: number;
  pollMs: number;
  /**
   * TEST SEAM, never set by the CLI: where to connect instead of the clone's endpoint. The emulated clouds in the
   * tests (moto, the Cloud SQL double) run no PostgreSQL, so the tests point the clone at a database on a local
   * server standing in for it. Production connects to the clone's endpoint with the source's credentials.
   */
  cloneConnectionSeam?: (endpoint: ManagedEndpoint, conn: ConnInfo) => ConnInfo;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;
const iso = (h: Heartbeat | null): { id: string; at: string } | null => (h ? { id: h.id, at: new Date(h.at).toISOString() } : null);

/** "schema.table" or "table", quoted for SQL. */
export function quoteTable(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

async function countRows(client: { query: (sql: string) => Promise<{ rows: Array<{ n: string }> }> }, table: string): Promise<number | null> {
  try {
    const r = await client.query(`SELECT count(*)::text AS n FROM ${quoteTable(table)}`);
    return Number(r.rows[0]!.n);
  } catch {
    return null;
  }
}

/** Deletes what earlier drills of this source left behind when they were killed; returns their names. */
async function removeLeftovers(opts: ManagedDrillOptions, startedAt: Date, ctx: RunContext): Promise<string[]> {
  const own = drillCloneName(opts.source, startedAt).replace(/[^-]+$/, ''); // the prefix with this source, up to the time
  const removed: string[] = [];
  for (const i of await opts.provider.listByPrefix(own)) {
    const t = drillCloneStartedAt(i.name);
    // Exactly this source's name for that start (not "shop-eu"'s when the source is "shop"). RDS tags an instance
    // as it creates it, so an untagged one is not a drill's; a Cloud SQL clone is labelled only once it runs.
    const ours = t !== null && drillCloneName(opts.source, t) === i.name && (i.labels[DRILL_LABEL] !== undefined || opts.provider.kind === 'cloudsql');
    if (!ours || t.getTime() > startedAt.getTime() - opts.timeoutMs || /delet|stopp/i.test(i.status)) continue;
    try {
      await opts.provider.deleteInstance(i.name);
      removed.push(i.name);
      ctx.logger.warn({ instance: i.name }, 'deleted the clone of an earlier drill that was killed');
      ctx.stderr.write(`lifeboat: deleted the clone of an earlier drill that was killed: ${i.name}\n`);
    } catch (e) {
      ctx.logger.warn({ instance: i.name }, `could not delete the clone of an earlier drill: ${describeError(e)}`);
    }
  }
  return removed;
}

export async function runManagedPitrDrill(opts: ManagedDrillOptions, deps: { ctx: RunContext }): Promise<PitrDrillReport> {
  const { ctx } = deps;
  const { provider } = opts;
  const startedAt = ctx.now();
  const stage = (text: string): void => void (ctx.stderr.isTTY && ctx.stderr.write(`${text}\n`));

  // Refusals first: a target outside the window is bad usage, before anything is made or deleted.
  const src = await provider.describeSource(startedAt);
  checkTargetInWindow(opts.target, src.window, '--to-time', src.label);
  const staleRemoved = await removeLeftovers(opts, startedAt, ctx);

  // What the source says: the heartbeats around the target and the tables' row counts now.
  let around: HeartbeatsAround | null = null; // null: the source has no heartbeat table
  const sourceRows = new Map<string, number | null>();
  const s = await connectPg(opts.conn, 'the source (--database-url)');
  try {
    if (await hasHeartbeats(s)) around = await heartbeatsAround(s, opts.target);
    for (const t of opts.tables) sourceRows.set(t, await countRows(s, t));
  } finally {
    await s.end().catch(() => undefined);
  }

  const name = drillCloneName(opts.source, startedAt);
  const checks: PitrDrillCheck[] = [];
  const tables: ManagedDrillDetails['tables'] = [];
  let cloneSeconds: number | null = null;
  let firstQuerySeconds: number | null = null;
  let endpoint: ManagedEndpoint | null = null;
  let asked = false;
  try {
    stage(`cloning ${src.label} as it was at ${opts.target.toISOString()} into ${name}...`);
    // Another drill of the same source started in the same second owns that name: never touch its clone.
    if (await provider.find(name)) throw new Error(`${name} exists already (another drill of ${opts.source} started in the same second)`);
    const t0 = Date.now();
    asked = true;
    await provider.startClone(name, opts.target, src, { [DRILL_LABEL]: opts.source, [MADE_BY_LABEL]: MADE_BY_VALUE });
    const ready = await provider.waitReady(name, { signal: ctx.signal, deadline: t0 + opts.timeoutMs, pollMs: opts.pollMs, onStatus: statusReporter(ctx, name) });
    cloneSeconds = seconds(Date.now() - t0);
    endpoint = ready.endpoint;
    checks.push({ name: 'clone', ok: true, detail: `${name} ready in ${cloneSeconds}s at ${endpoint ? `${endpoint.host}:${endpoint.port}` : 'no address'}` });
    if (!endpoint) throw new Error(`${name} has no address to connect to`);

    const conn: ConnInfo = opts.cloneConnectionSeam ? opts.cloneConnectionSeam(endpoint, opts.conn) : { ...opts.conn, host: endpoint.host, port: endpoint.port, params: { ...opts.conn.params } };
    const t1 = Date.now();
    let c;
    try {
      c = await connectPg(conn, `the clone ${name}`);
      await c.query('SELECT 1');
      firstQuerySeconds = seconds(Date.now() - t1);
      checks.push({ name: 'connect', ok: true, detail: `connected to database ${conn.database} as ${conn.user} in ${firstQuerySeconds}s` });
    } catch (e) {
      checks.push({ name: 'connect', ok: false, detail: describeError(e) });
      await c?.end().catch(() => undefined);
      c = undefined;
    }
    if (c) {
      try {
        checks.push(...(await checkRestoredHeartbeats(c, around)));
        for (const t of opts.tables) {
          const n = await countRows(c, t);
          const m = sourceRows.get(t) ?? null;
          // A table missing from the clone, or empty there while the source has rows, is what a bad copy looks like.
          const ok = n !== null && !(n === 0 && (m ?? 0) > 0);
          tables.push({ table: t, cloneRows: n, sourceRows: m, ok, detail: n === null ? 'missing or unreadable in the clone' : `${n} rows in the clone, ${m ?? '-'} in the source now` });
        }
        if (opts.tables.length > 0) {
          const bad = tables.filter((x) => !x.ok);
          checks.push({ name: 'row counts', ok: bad.length === 0, detail: tables.map((x) => `${x.table}: ${x.cloneRows ?? 'MISSING'}${x.ok ? '' : ` (source ${x.sourceRows ?? '-'})`}`).join(', ') });
        }
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  } catch (e) {
    checks.push({ name: cloneSeconds === null ? 'clone' : 'connect', ok: false, detail: describeError(e) });
  } finally {
    if (asked) {
      let detail: string;
      let ok = false;
      try {
        // A clone that never came to exist (the request failed) needs no deleting; only drill clones are ever deleted.
        if (!name.startsWith(DRILL_NAME_PREFIX)) detail = `refusing to delete ${name}: not a drill clone`;
        else if (await provider.find(name)) {
          await provider.deleteInstance(name);
          detail = `${name} deleted (no final snapshot)`;
          ok = true;
        } else {
          detail = `${name} was never created`;
          ok = true;
        }
      } catch (e) {
        detail = `${name} NOT deleted: ${describeError(e)}; the next drill deletes it`;
      }
      checks.push({ name: 'cleaned up', ok, detail });
    }
  }

  // An interrupted drill (SIGTERM) has deleted its clone above and ends as a failure, without a report.
  ctx.signal.throwIfAborted();
  const rpoSeconds = src.window.latestReported ? Math.max(0, seconds(startedAt.getTime() - src.window.latest.getTime())) : null;
  const rpo = objective(rpoSeconds, opts.rpoTargetSeconds);
  const rtoSeconds = cloneSeconds !== null && firstQuerySeconds !== null ? seconds((cloneSeconds + firstQuerySeconds) * 1000) : null;
  const rto = objective(rtoSeconds, opts.rtoTargetSeconds);
  checks.push({ name: 'rpo', ok: rpo.ok, detail: `${rpoSeconds === null ? 'the cloud reports no latest restorable time' : `the latest restorable time was ${rpoSeconds}s behind`}; ${rpo.targetSeconds === null ? 'no target' : `target ${rpo.targetSeconds}s`}` });
  checks.push({ name: 'rto', ok: rto.ok, detail: rto.targetSeconds === null ? 'no target' : `target ${rto.targetSeconds}s` });

  const reportKey = pitrDrillReportKey(opts.source, startedAt);
  const report: PitrDrillReport = {
    formatVersion: PITR_DRILL_REPORT_FORMAT_VERSION,
    engine: 'postgres',
    kind: 'pitr',
    source: opts.source,
    startedAt: startedAt.toISOString(),
    finishedAt: ctx.now().toISOString(),
    target: opts.target.toISOString(),
    backup: null,
    recovery: null,
    heartbeats: { before: iso(around?.before ?? null), after: iso(around?.after ?? null) },
    rpo,
    rto: { ...rto, restoreSeconds: cloneSeconds, recoverySeconds: null, firstQuerySeconds },
    staleRemoved,
    managed: {
      provider: provider.kind,
      instance: provider.sourceName,
      clone: name,
      endpoint: endpoint ? `${endpoint.host}:${endpoint.port}` : null,
      window: { earliest: src.window.earliest.toISOString(), latest: src.window.latest.toISOString() },
      tables,
    },
    checks,
    passed: checks.every((c) => c.ok),
    reportKey,
  };
  if (opts.storage) await opts.storage.putBytes(reportKey, JSON.stringify(report, null, 2) + '\n', { contentType: 'application/json' });
  return report;
}
