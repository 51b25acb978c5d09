/**
 * LIFEBOAT_OBJECT_LOCK and LIFEBOAT_RETENTION_DAYS (and their flags): parsed per the contract, and a bad value or
 * a lock asked of a folder refused with exit 2 before anything is contacted, naming the variable, what was
 * expected and what was given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_RETENTION_DAYS } from '../../runner/contract/layout';
import { formatRetentionDays, parseObjectLockMode, parseRetentionDays } from '../../runner/contract/object-lock';
import { finalEvent, runCli } from '../runner/cli-harness';

test('LIFEBOAT_RETENTION_DAYS: the whole list, a partial list (the rest keeps its default), or nothing', () => {
  assert.deepEqual(parseRetentionDays('daily=7,weekly=35,monthly=400,yearly=2557,manual=90'), DEFAULT_RETENTION_DAYS);
  assert.deepEqual(parseRetentionDays(' yearly = 3650 , daily=10 '), { ...DEFAULT_RETENTION_DAYS, yearly: 3650, daily: 10 });
  assert.deepEqual(parseRetentionDays(undefined), DEFAULT_RETENTION_DAYS);
  assert.deepEqual(parseRetentionDays(''), DEFAULT_RETENTION_DAYS);
  const round = { daily: 3, weekly: 21, monthly: 180, yearly: 1000, manual: 30 };
  assert.deepEqual(parseRetentionDays(formatRetentionDays(round)), round);
});

test('LIFEBOAT_RETENTION_DAYS: bad lists are refused, naming the variable, the expected form and what was given', () => {
  for (const [raw, why] of [
    ['daily=seven', /not CLASS=DAYS/],
    ['hourly=1', /unknown class "hourly"/],
    ['daily=7,daily=8', /daily given twice/],
    ['daily=0', /out of range/],
    ['yearly=36501', /out of range/],
    ['daily=7;weekly=35', /not CLASS=DAYS/],
  ] as const) {
    assert.throws(() => parseRetentionDays(raw), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^LIFEBOAT_RETENTION_DAYS expected comma-separated CLASS=DAYS pairs/);
      assert.ok(e.message.includes(JSON.stringify(raw)), e.message);
      assert.match(e.message, why);
      return true;
    });
  }
});

test('LIFEBOAT_OBJECT_LOCK: governance or compliance (any case); unset or empty means no lock; anything else refused', () => {
  assert.equal(parseObjectLockMode('governance'), 'governance');
  assert.equal(parseObjectLockMode('COMPLIANCE'), 'compliance');
  assert.equal(parseObjectLockMode(undefined), undefined);
  assert.equal(parseObjectLockMode(' '), undefined);
  assert.throws(() => parseObjectLockMode("strict"), { message: /^LIFEBOAT_OBJECT_LOCK expected governance or compliance \(or unset for no per-object lock\), got "strict"$/ });
});

const fakeDb = { DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/db' };

test('lifeboat backup and redis backup exit 2 on a bad variable, naming it, before contacting anything', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-lock-'));
  try {
    for (const [argv, env] of [
      [['backup', '--storage', dir], { ...fakeDb, LIFEBOAT_OBJECT_LOCK: 'strict' }],
      [['backup', '--storage', dir], { ...fakeDb, LIFEBOAT_RETENTION_DAYS: 'daily=x' }],
      [['redis', 'backup', '--storage', dir], { LIFEBOAT_REDIS_URL: 'redis://127.0.0.1:1', LIFEBOAT_OBJECT_LOCK: 'on' }],
    ] as const) {
      const r = await runCli([...argv], env);
      assert.equal(r.code, 2, r.stderr);
      const ev = finalEvent(r.stderr);
      const variable = 'LIFEBOAT_OBJECT_LOCK' in env ? 'LIFEBOAT_OBJECT_LOCK' : 'LIFEBOAT_RETENTION_DAYS';
      assert.match(String(ev?.msg ?? r.stderr), new RegExp(variable));
      assert.match(r.stderr, new RegExp(`got \\\\?"${('LIFEBOAT_OBJECT_LOCK' in env ? env.LIFEBOAT_OBJECT_LOCK : 'daily=x')}`));
    }
    const flag = await runCli(['backup', '--storage', dir, '--object-lock', 'forever'], fakeDb);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--object-lock \(LIFEBOAT_OBJECT_LOCK\) expected governance or compliance/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock asked of folder storage is refused (exit 2) and writes nothing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-lock-'));
  try {
    const r = await runCli(['backup', '--storage', dir], { ...fakeDb, LIFEBOAT_OBJECT_LOCK: 'governance' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /LIFEBOAT_OBJECT_LOCK \(--object-lock\) expected a gs:\/\/ or s3:\/\/ storage, got the folder file:\/\//);
    assert.deepEqual(readdirSync(dir), []);
    const redis = await runCli(['redis', 'backup', '--storage', dir], { LIFEBOAT_REDIS_URL: 'redis://127.0.0.1:1', LIFEBOAT_OBJECT_LOCK: 'compliance' });
    assert.equal(redis.code, 2, redis.stderr);
    assert.match(redis.stderr, /a folder cannot lock files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
