/**
 * A local double of the Cloud SQL Admin API v1 for tests: an HTTP server the official client
 * (@googleapis/sqladmin) is pointed at with its rootUrl option. Every request is checked against the published
 * API as Google's typed client declares it (test/harness/sqladmin-shapes.ts): the method's path and query
 * parameters, the request body's fields and types, and the double's own responses too, so the double cannot
 * drift from the API either. A request that fails the check gets a 400 and is recorded in `violations`.
 *
 * It simulates what the drill and restore use: instances (get, list, patch of labels, delete), clone with
 * `cloneContext.pointInTime` as a long-running operation (PENDING, RUNNING, DONE over successive
 * operations.get calls, the new instance PENDING_CREATE until then, RUNNABLE after, with the source's settings
 * and a new private address), backupRuns.list and getLatestRecoveryTime. It runs no PostgreSQL.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { sqladmin_v1 } from '@googleapis/sqladmin';
import { checkParams, checkSchema, requestBodySchema } from './sqladmin-shapes';

type Instance = sqladmin_v1.Schema$DatabaseInstance;
type Operation = sqladmin_v1.Schema$Operation;

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface CloudSqlDouble {
  /** The client's rootUrl ("http://127.0.0.1:PORT/"). */
  rootUrl: string;
  project: string;
  instances: Map<string, Instance>;
  backupRuns: Map<string, sqladmin_v1.Schema$BackupRun[]>;
  /** What getLatestRecoveryTime answers per instance; absent: 404 (as for an instance without PITR). */
  recovery: Map<string, { earliest?: string; latest: string }>;
  /** operations.get calls before a clone is RUNNING, then DONE (default 1 each). */
  steps: number;
  /** When set, clone operations end in this error (and the new instance is FAILED). */
  failClones: string | null;
  requests: RecordedRequest[];
  violations: string[];
  stop(): Promise<void>;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  params: string;
  response: string | null;
  handle: (p: Record<string, string>, body: unknown, q: URLSearchParams) => { status: number; body: unknown };
}

export async function startCloudSqlDouble(project = 'acme-prod'): Promise<CloudSqlDouble> {
  const instances = new Map<string, Instance>();
  const backupRuns = new Map<string, sqladmin_v1.Schema$BackupRun[]>();
  const recovery = new Map<string, { earliest?: string; latest: string }>();
  const ops = new Map<string, { op: Operation; polls: number; onDone: () => void }>();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  let opSeq = 0;
  let ipSeq = 10;
  const state = { steps: 1, failClones: null as string | null };

  const err = (status: number, message: string): { status: number; body: unknown } => ({ status, body: { error: { code: status, message, errors: [{ message, domain: 'global', reason: status === 404 ? 'notFound' : 'invalid' }] } } });
  const newOp = (type: string, target: string, onDone: () => void = () => undefined, immediate = false): Operation => {
    const name = `op-${++opSeq}`;
    const op: Operation = { kind: 'sql#operation', name, operationType: type, status: immediate ? 'DONE' : 'PENDING', targetId: target, targetProject: project, insertTime: new Date().toISOString() };
    ops.set(name, { op, polls: 0, onDone });
    if (immediate) onDone();
    return op;
  };
  const inst = (name: string): Instance | undefined => instances.get(name);

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Instances$Get',
      response: 'Schema$DatabaseInstance',
      handle: (p) => (inst(p.instance!) ? { status: 200, body: inst(p.instance!) } : err(404, `The Cloud SQL instance does not exist.`)),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/instances$/,
      keys: ['project'],
      params: 'Params$Resource$Instances$List',
      response: 'Schema$InstancesListResponse',
      handle: () => ({ status: 200, body: { kind: 'sql#instancesList', items: [...instances.values()] } }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)\/clone$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Instances$Clone',
      response: 'Schema$Operation',
      handle: (p, body) => {
        const src = inst(p.instance!);
        if (!src) return err(404, 'The Cloud SQL instance does not exist.');
        const ctx = (body as sqladmin_v1.Schema$InstancesCloneRequest).cloneContext;
        const dest = ctx?.destinationInstanceName;
        if (!dest) return err(400, 'Missing destinationInstanceName.');
        if (instances.has(dest)) return err(409, 'The Cloud SQL instance already exists.');
        const rec = recovery.get(p.instance!);
        if (ctx.pointInTime && rec && (ctx.pointInTime > rec.latest || (rec.earliest && ctx.pointInTime < rec.earliest))) return err(400, 'The requested point in time is outside the retention window.');
        const copy = JSON.parse(JSON.stringify(src)) as Instance;
        Object.assign(copy, { name: dest, state: 'PENDING_CREATE', connectionName: `${project}:${src.region}:${dest}`, ipAddresses: [{ type: 'PRIVATE', ipAddress: `10.0.0.${++ipSeq}` }] });
        delete copy.selfLink;
        instances.set(dest, copy);
        const op = newOp('CLONE', dest, () => {
          const c = instances.get(dest);
          if (c) c.state = state.failClones ? 'FAILED' : 'RUNNABLE';
        });
        return { status: 200, body: op };
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Instances$Patch',
      response: 'Schema$Operation',
      handle: (p, body) => {
        const i = inst(p.instance!);
        if (!i) return err(404, 'The Cloud SQL instance does not exist.');
        const labels = (body as Instance).settings?.userLabels;
        if (labels) i.settings = { ...(i.settings ?? {}), userLabels: { ...labels } };
        return { status: 200, body: newOp('UPDATE', p.instance!) };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Instances$Delete',
      response: 'Schema$Operation',
      handle: (p) => {
        if (!inst(p.instance!)) return err(404, 'The Cloud SQL instance does not exist.');
        instances.delete(p.instance!);
        return { status: 200, body: newOp('DELETE', p.instance!, () => undefined, true) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/operations\/([^/]+)$/,
      keys: ['project', 'operation'],
      params: 'Params$Resource$Operations$Get',
      response: 'Schema$Operation',
      handle: (p) => {
        const o = ops.get(p.operation!);
        if (!o) return err(404, 'The operation does not exist.');
        if (o.op.status !== 'DONE') {
          o.polls++;
          if (o.polls > 2 * state.steps) {
            o.op.status = 'DONE';
            o.op.endTime = new Date().toISOString();
            if (state.failClones && o.op.operationType === 'CLONE') o.op.error = { kind: 'sql#operationErrors', errors: [{ kind: 'sql#operationError', code: 'INTERNAL_ERROR', message: state.failClones }] };
            o.onDone();
          } else if (o.polls > state.steps) o.op.status = 'RUNNING';
        }
        return { status: 200, body: o.op };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)\/backupRuns$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Backupruns$List',
      response: 'Schema$BackupRunsListResponse',
      handle: (p) => (inst(p.instance!) ? { status: 200, body: { kind: 'sql#backupRunsList', items: backupRuns.get(p.instance!) ?? [] } } : err(404, 'The Cloud SQL instance does not exist.')),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/instances\/([^/]+)\/getLatestRecoveryTime$/,
      keys: ['project', 'instance'],
      params: 'Params$Resource$Projects$Instances$Getlatestrecoverytime',
      response: 'Schema$SqlInstancesGetLatestRecoveryTimeResponse',
      handle: (p) => {
        const r = recovery.get(p.instance!);
        return r ? { status: 200, body: { kind: 'sql#getLatestRecoveryTime', latestRecoveryTime: r.latest, ...(r.earliest ? { earliestRecoveryTime: r.earliest } : {}) } } : err(404, 'No recovery time for this instance.');
      },
    },
  ];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const text = Buffer.concat(chunks).toString();
      let body: unknown = undefined;
      const problems: string[] = [];
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          problems.push('the body is not JSON');
        }
      }
      requests.push({ method: req.method ?? '', path: url.pathname, body });
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) problems.push('no OAuth bearer token');
      const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) {
        violations.push(`${req.method} ${url.pathname}: not a method of the Cloud SQL Admin API v1 that the double knows`);
        return send(404, { error: { code: 404, message: 'not found' } });
      }
      const m = route.pattern.exec(url.pathname)!;
      const p = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      if (p.project !== project) problems.push(`project ${p.project}, expected ${project}`);
      problems.push(...checkParams(route.params, p, url.searchParams));
      const bodySchema = requestBodySchema(route.params);
      if (bodySchema) problems.push(...(body === undefined ? [`${bodySchema}: no request body`] : checkSchema(body, bodySchema)));
      else if (body !== undefined) problems.push(`${route.params} takes no request body`);
      if (problems.length > 0) {
        violations.push(...problems.map((x) => `${req.method} ${url.pathname}: ${x}`));
        return send(400, { error: { code: 400, message: problems.join('; ') } });
      }
      const out = route.handle(p, body, url.searchParams);
      if (out.status === 200 && route.response) {
        const bad = checkSchema(out.body, route.response);
        if (bad.length > 0) violations.push(...bad.map((x) => `the double's own response to ${req.method} ${url.pathname}: ${x}`));
      }
      send(out.status, out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const double: CloudSqlDouble = {
    rootUrl: `http://127.0.0.1:${port}/`,
    project,
    instances,
    backupRuns,
    recovery,
    get steps() {
      return state.steps;
    },
    set steps(n: number) {
      state.steps = n;
    },
    get failClones() {
      return state.failClones;
    },
    set failClones(v: string | null) {
      state.failClones = v;
    },
    requests,
    violations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return double;
}
