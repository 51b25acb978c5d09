// The storage a Kubernetes stack provisions on its cluster's cloud: component inputs asserted by type token (Pulumi
// mocks), the Workload Identity / IRSA rules as data, and argument errors.
import { describe, it, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { createMocks } from '../../../infra/synth/mocks';
import { DEFAULT_RETENTION_DAYS } from '../../../runner/contract/layout';
import { GkeBackupStorage, type GkeBackupStorageArgs } from '../../../infra/k8s/GkeBackupStorage';
import { EksBackupStorage, type EksBackupStorageArgs } from '../../../infra/k8s/EksBackupStorage';
import { RunnerNamespace } from '../../../infra/k8s/RunnerNamespace';
import { oidcProviderAccount, workloadIdentityMember, workloadIdentityPool } from '../../../infra/k8s/workloadIdentity';

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The provider reference the engine was given (explicit providers only). */
  provider?: string;
}
let created: Created[] = [];

before(async () => {
  const base = createMocks({ awsRegion: 'eu-west-1' });
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, provider: args.provider });
        return base.newResource(args);
      },
      call: base.call,
    },
    'lifeboat',
    'k8s-storage',
    false,
  );
});
afterEach(async () => {
  await settle();
  created = [];
});

async function settle(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
const ofType = (t: string) => created.filter((c) => c.type === t);
const named = (name: string) => {
  const found = created.filter((c) => c.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};
function assertUniqueNames(): void {
  const keys = created.map((c) => `${c.type}::${c.name}`);
  assert.equal(new Set(keys).size, keys.length, keys.filter((k, i) => keys.indexOf(k) !== i).join(', '));
}
/** Resolves a pulumi Output in mocks. */
const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => resolve(v)));

describe('Workload Identity and IRSA rules', () => {
  const members: Array<[string, string, string, string]> = [
    ['acme-prod', 'lifeboat-prod', 'lifeboat-backup', 'serviceAccount:acme-prod.svc.id.goog[lifeboat-prod/lifeboat-backup]'],
    ['gke-host-1', 'db', 'lifeboat-drill', 'serviceAccount:gke-host-1.svc.id.goog[db/lifeboat-drill]'],
  ];
  for (const [project, ns, ksa, member] of members) {
    it(`${project} ${ns}/${ksa} → ${member}`, () => assert.equal(workloadIdentityMember(project, ns, ksa), member));
  }
  it('the pool is <cluster project>.svc.id.goog', () => assert.equal(workloadIdentityPool('acme-prod'), 'acme-prod.svc.id.goog'));
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['a project id with capitals', () => workloadIdentityPool('Acme'), /clusterProject: expected a GCP project id, got "Acme"/],
    ['a namespace with a slash', () => workloadIdentityMember('acme-prod', 'a/b', 'x'), /namespace: expected a Kubernetes name, got "a\/b"/],
    ['a service account with a bracket', () => workloadIdentityMember('acme-prod', 'ns', 'x]'), /serviceAccount: expected a Kubernetes name, got "x\]"/],
    ['an OIDC issuer URL instead of the ARN', () => oidcProviderAccount('https://oidc.eks.eu-west-1.amazonaws.com/id/X'), /oidcProviderArn: expected arn:aws:iam::<account>:oidc-provider/],
  ];
  for (const [what, f, re] of bad) it(`refuses ${what}`, () => assert.throws(f, re));
  it('the account of an OIDC provider ARN', () => {
    assert.equal(oidcProviderAccount('arn:aws:iam::210987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X'), '210987654321');
    assert.equal(oidcProviderAccount('arn:aws-cn:iam::210987654321:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X'), '210987654321');
  });
});

const gkeArgs: GkeBackupStorageArgs = {
  project: 'acme-data',
  clusterProject: 'acme-gke',
  prefix: 'lifeboat-prod',
  vault: { bucketName: 'acme-data-lifeboat-prod-backups', location: 'EUR5' },
  dr: { bucketName: 'acme-data-lifeboat-prod-dr-backups', location: 'europe-north1' },
  lifecycle: { retentionDays: DEFAULT_RETENTION_DAYS, drillReportRetentionDays: 400, root: 'k8s' },
  minimumRetentionDays: 7,
  retentionLocked: true,
  namespace: 'lifeboat-prod',
  serviceAccounts: { backup: 'lifeboat-backup', drill: 'lifeboat-drill' },
};

describe('lifeboat:k8s:GkeBackupStorage', () => {
  it('builds the GCP stack components: locked vault, DR copy by transfer, backup and restore accounts, no scheduler', async () => {
    const s = new GkeBackupStorage('gke', gkeArgs);
    await settle();
    assertUniqueNames();
    const buckets = ofType('gcp:storage/bucket:Bucket');
    assert.deepEqual(buckets.map((b) => [b.inputs.name, b.inputs.location, (b.inputs.labels as Record<string, string>)['lifeboat-role']]).sort(), [
      ['acme-data-lifeboat-prod-backups', 'EUR5', 'backup-vault'],
      ['acme-data-lifeboat-prod-dr-backups', 'europe-north1', 'dr-vault'],
    ]);
    for (const b of buckets) {
      assert.equal(b.inputs.project, 'acme-data');
      assert.deepEqual(b.inputs.retentionPolicy, { retentionPeriod: String(7 * 86400), isLocked: true });
      assert.equal(b.inputs.publicAccessPrevention, 'enforced');
      assert.equal(b.inputs.forceDestroy, false);
    }
    assert.equal(ofType('gcp:storage/transferJob:TransferJob').length, 1);
    assert.deepEqual(ofType('gcp:serviceaccount/account:Account').map((a) => a.inputs.accountId).sort(), ['lifeboat-prod-backup', 'lifeboat-prod-restore']);
    assert.equal(await value(s.bucketName), 'acme-data-lifeboat-prod-backups');
    assert.equal(await value(s.drBucketName!), 'acme-data-lifeboat-prod-dr-backups');
    assert.equal(s.storageUrl, 'gs://acme-data-lifeboat-prod-backups/k8s');
  });

  it('grants the backup account create + read and the restore account read + drill reports, nothing on the project', async () => {
    new GkeBackupStorage('gke', gkeArgs);
    await settle();
    const grants = ofType('gcp:storage/bucketIAMMember:BucketIAMMember').filter((g) => g.name.startsWith('gke-identity-'));
    const byName = Object.fromEntries(grants.map((g) => [g.name, g.inputs]));
    assert.deepEqual(Object.keys(byName).sort(), [
      'gke-identity-backup-vault-objectcreator',
      'gke-identity-backup-vault-objectviewer',
      'gke-identity-backup-vault-setretention',
      // The DR copy: read, and drill reports, for the restore account only (drills and a dr stack read it).
      'gke-identity-restore-read0-objectcreator-cond',
      'gke-identity-restore-read0-objectviewer',
      'gke-identity-restore-vault-objectcreator-cond',
      'gke-identity-restore-vault-objectviewer',
    ]);
    assert.equal(byName['gke-identity-backup-vault-objectcreator']!.member, 'serviceAccount:lifeboat-prod-backup@acme-data.iam.gserviceaccount.com');
    assert.match(
      (byName['gke-identity-restore-vault-objectcreator-cond']!.condition as { expression: string }).expression,
      /startsWith\("projects\/_\/buckets\/acme-data-lifeboat-prod-backups\/objects\/k8s\/drills\/"\)/,
    );
    for (const g of grants) assert.ok(!/admin|objectUser|legacy/i.test(g.inputs.role as string), `${g.name}: ${String(g.inputs.role)}`);
    // No project role for a runner account; the DR replication's Google agents hold theirs (next test).
    const runnerAccounts = ['lifeboat-prod-backup@acme-data.iam.gserviceaccount.com', 'lifeboat-prod-restore@acme-data.iam.gserviceaccount.com'];
    const projectGrants = ofType('gcp:projects/iAMMember:IAMMember');
    assert.deepEqual(projectGrants.filter((g) => runnerAccounts.some((a) => String(g.inputs.member).includes(a))).map((g) => g.name), []);
    assert.equal(ofType('gcp:secretmanager/secretIamMember:SecretIamMember').length, 0);
  });

  it('grants the DR replication its Pub/Sub roles (event-driven transfer), to Google\'s agents only', async () => {
    new GkeBackupStorage('gke', gkeArgs);
    await settle();
    const projectGrants = ofType('gcp:projects/iAMMember:IAMMember').map((g) => [g.inputs.project, g.inputs.member, g.inputs.role]);
    assert.deepEqual(projectGrants.sort(), [
      ['acme-data', 'serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com', 'roles/pubsub.editor'],
      ['acme-data', 'serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com', 'roles/pubsub.publisher'],
    ]);
  });

  it('binds each account to its own KSA through Workload Identity in the cluster project pool', async () => {
    new GkeBackupStorage('gke', gkeArgs);
    await settle();
    const bindings = ofType('gcp:serviceaccount/iAMMember:IAMMember');
    assert.deepEqual(
      bindings.map((b) => b.inputs).sort((a, b) => String(a.member).localeCompare(String(b.member))),
      [
        {
          serviceAccountId: 'projects/acme-data/serviceAccounts/lifeboat-prod-backup@acme-data.iam.gserviceaccount.com',
          role: 'roles/iam.workloadIdentityUser',
          member: 'serviceAccount:acme-gke.svc.id.goog[lifeboat-prod/lifeboat-backup]',
        },
        {
          serviceAccountId: 'projects/acme-data/serviceAccounts/lifeboat-prod-restore@acme-data.iam.gserviceaccount.com',
          role: 'roles/iam.workloadIdentityUser',
          member: 'serviceAccount:acme-gke.svc.id.goog[lifeboat-prod/lifeboat-drill]',
        },
      ],
    );
  });

  it('the KSAs carry the emails it exposes, and stay valid ServiceAccounts', async () => {
    const s = new GkeBackupStorage('gke', gkeArgs);
    new RunnerNamespace('ns', { namespace: 'lifeboat-prod', identity: { kind: 'gcp', serviceAccounts: s.serviceAccountEmails } });
    await settle();
    const annotations = (n: string) => (named(n).inputs.metadata as { annotations: Record<string, string> }).annotations;
    assert.deepEqual(annotations('ns-backup'), { 'iam.gke.io/gcp-service-account': 'lifeboat-prod-backup@acme-data.iam.gserviceaccount.com' });
    assert.deepEqual(annotations('ns-drill'), { 'iam.gke.io/gcp-service-account': 'lifeboat-prod-restore@acme-data.iam.gserviceaccount.com' });
    for (const sa of ofType('kubernetes:core/v1:ServiceAccount')) new ServiceAccount(sa.inputs as never).validate();
  });

  it('ephemeral without DR: one destroyable versioned bucket, no transfer job', async () => {
    const { dr: _dr, ...noDr } = gkeArgs;
    const s = new GkeBackupStorage('pr', { ...noDr, ephemeral: true, retentionLocked: false, clusterProject: undefined });
    await settle();
    const buckets = ofType('gcp:storage/bucket:Bucket');
    assert.equal(buckets.length, 1);
    assert.equal(buckets[0]!.inputs.forceDestroy, true);
    assert.deepEqual(buckets[0]!.inputs.versioning, { enabled: true });
    assert.equal(buckets[0]!.inputs.retentionPolicy, undefined);
    assert.equal(ofType('gcp:storage/transferJob:TransferJob').length, 0);
    assert.equal(ofType('gcp:projects/iAMMember:IAMMember').length, 0, 'no DR copy, no replication grants');
    assert.equal(s.drBucketName, undefined);
    // Without a cluster project, the pool is the bucket's project's.
    assert.ok(ofType('gcp:serviceaccount/iAMMember:IAMMember').every((b) => String(b.inputs.member).startsWith('serviceAccount:acme-data.svc.id.goog[')));
  });

  const bad: Array<[string, Partial<GkeBackupStorageArgs>, RegExp]> = [
    ['one KSA for both identities', { serviceAccounts: { backup: 'lifeboat', drill: 'lifeboat' } }, /serviceAccounts: expected two different names, got "lifeboat" twice/],
    ['a namespace that is not a Kubernetes name', { namespace: 'Lifeboat' }, /namespace: expected a Kubernetes name, got "Lifeboat"/],
    ['a bad cluster project', { clusterProject: 'x' }, /clusterProject: expected a GCP project id, got "x"/],
  ];
  for (const [what, over, re] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => new GkeBackupStorage(`bad-${what.length}`, { ...gkeArgs, ...over }), (e: unknown) => e instanceof pulumi.ResourceError && re.test(e.message));
    });
  }
});

const OIDC = 'arn:aws:iam::210987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123';
const eksArgs: EksBackupStorageArgs = {
  region: 'eu-west-1',
  bucketName: 'lifeboat-prod-backups-210987654321-eu-west-1',
  dr: { region: 'eu-central-1', bucketName: 'lifeboat-prod-backups-210987654321-eu-central-1' },
  retentionDays: DEFAULT_RETENTION_DAYS,
  drillReportDays: 400,
  rootPrefix: 'k8s',
  lockRetention: { mode: 'COMPLIANCE', days: 7 },
  oidcProviderArn: OIDC,
  namespace: 'lifeboat-prod',
  serviceAccounts: { backup: 'lifeboat-backup', drill: 'lifeboat-drill' },
  tags: { 'lifeboat-environment': 'prod' },
};

describe('lifeboat:k8s:EksBackupStorage', () => {
  it('builds the AWS stack components: locked, encrypted bucket and its replica in the DR region', async () => {
    const s = new EksBackupStorage('eks', eksArgs);
    await settle();
    assertUniqueNames();
    const buckets = ofType('aws:s3/bucket:Bucket');
    assert.deepEqual(buckets.map((b) => [b.inputs.bucket, b.inputs.region, (b.inputs.tags as Record<string, string>)['lifeboat-role']]).sort(), [
      ['lifeboat-prod-backups-210987654321-eu-central-1', 'eu-central-1', 'dr-vault'],
      ['lifeboat-prod-backups-210987654321-eu-west-1', 'eu-west-1', 'backup-vault'],
    ]);
    for (const b of buckets) assert.equal(b.inputs.objectLockEnabled, true);
    const locks = ofType('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration');
    assert.deepEqual(locks.map((l) => (l.inputs.rule as { defaultRetention: unknown }).defaultRetention), [
      { mode: 'COMPLIANCE', days: 7 },
      { mode: 'COMPLIANCE', days: 7 },
    ]);
    assert.equal(ofType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').length, 2);
    const replication = ofType('aws:s3/bucketReplicationConfig:BucketReplicationConfig');
    assert.equal(replication.length, 1);
    assert.equal(
      (replication[0]!.inputs.rules as Array<{ destination: { bucket: string } }>)[0]!.destination.bucket,
      'arn:aws:s3:::lifeboat-prod-backups-210987654321-eu-central-1',
    );
    // The replication role's confused-deputy guard uses the account of the OIDC provider.
    const replicationTrust = JSON.parse(named('eks-replication-role').inputs.assumeRolePolicy as string);
    assert.equal(replicationTrust.Statement[0].Condition.StringEquals['aws:SourceAccount'], '210987654321');
    assert.equal(await value(s.drBucketName!), 'lifeboat-prod-backups-210987654321-eu-central-1');
  });

  it('roles trust the OIDC provider for one KSA each (sub and aud), with no ECS execution roles', async () => {
    const s = new EksBackupStorage('eks', eksArgs);
    await settle();
    const trust = (n: string) => JSON.parse(named(n).inputs.assumeRolePolicy as string);
    for (const [id, ksa] of [['backup', 'lifeboat-backup'], ['drill', 'lifeboat-drill']] as const) {
      assert.deepEqual(trust(`eks-runner-${id}`).Statement, [
        {
          Effect: 'Allow',
          Principal: { Federated: OIDC },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub': `system:serviceaccount:lifeboat-prod:${ksa}`,
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com',
            },
          },
        },
      ]);
    }
    assert.ok(!created.some((c) => c.name.endsWith('-exec')), 'no ECS execution roles');
    assert.equal(await value(s.roleArns.backup), 'arn:aws:iam::123456789012:role/eks-runner-backup');
  });

  it('the backup role writes under the root and cannot delete; the drill role reads and writes drill reports only', async () => {
    new EksBackupStorage('eks', eksArgs);
    await settle();
    const policy = (n: string) => JSON.parse(named(n).inputs.policy as string) as { Statement: Array<{ Sid: string; Action: string[]; Resource: string | string[] }> };
    const backup = policy('eks-runner-backup-storage');
    const backupActions = backup.Statement.flatMap((s) => s.Action);
    assert.ok(backupActions.includes('s3:PutObject'));
    assert.ok(!backupActions.some((a) => /delete|PutLifecycle|PutBucket|Bypass/i.test(a)), backupActions.join(', '));
    // It locks each backup for its class at upload; without Bypass it can never shorten a lock.
    assert.deepEqual(backupActions.filter((a) => /Retention/.test(a)), ['s3:PutObjectRetention']);
    assert.equal(backup.Statement.find((s) => s.Sid === 'WriteAndReadBackups')!.Resource, 'arn:aws:s3:::lifeboat-prod-backups-210987654321-eu-west-1/k8s/*');
    const drill = policy('eks-runner-drill-storage');
    assert.equal(drill.Statement.find((s) => s.Sid === 'WriteDrillReports')!.Resource, 'arn:aws:s3:::lifeboat-prod-backups-210987654321-eu-west-1/k8s/drills/*');
    assert.ok(!drill.Statement.flatMap((s) => s.Action).some((a) => /delete/i.test(a)));
  });

  it('the KSAs carry the role ARNs it exposes, and stay valid ServiceAccounts', async () => {
    const s = new EksBackupStorage('eks', eksArgs);
    new RunnerNamespace('ns', { namespace: 'lifeboat-prod', identity: { kind: 'aws', roleArns: s.roleArns } });
    await settle();
    const annotations = (n: string) => (named(n).inputs.metadata as { annotations: Record<string, string> }).annotations;
    assert.deepEqual(annotations('ns-backup'), { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/eks-runner-backup' });
    assert.deepEqual(annotations('ns-drill'), { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/eks-runner-drill' });
    for (const sa of ofType('kubernetes:core/v1:ServiceAccount')) new ServiceAccount(sa.inputs as never).validate();
  });

  it('ephemeral without DR: one force-destroyable bucket, no Object Lock, no replication', async () => {
    const { dr: _dr, lockRetention: _lock, ...rest } = eksArgs;
    new EksBackupStorage('pr', { ...rest, ephemeral: true });
    await settle();
    const buckets = ofType('aws:s3/bucket:Bucket');
    assert.equal(buckets.length, 1);
    assert.equal(buckets[0]!.inputs.forceDestroy, true);
    assert.equal(buckets[0]!.inputs.objectLockEnabled, false);
    assert.equal(ofType('aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
    assert.equal(ofType('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').length, 0);
  });

  const bad: Array<[string, Partial<EksBackupStorageArgs>, RegExp]> = [
    ['one KSA for both identities', { serviceAccounts: { backup: 'lifeboat', drill: 'lifeboat' } }, /serviceAccounts: expected two different names, got "lifeboat" twice/],
    ['a DR replica in the same region', { dr: { region: 'eu-west-1', bucketName: 'x-dr-bucket' } }, /dr\.region: expected a region other than eu-west-1, got "eu-west-1"/],
    ['an issuer URL for the OIDC provider', { oidcProviderArn: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123' }, /oidcProviderArn: expected arn:aws:iam::<account>:oidc-provider/],
  ];
  for (const [what, over, re] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => new EksBackupStorage(`bad-${what.length}`, { ...eksArgs, ...over }), (e: unknown) => e instanceof pulumi.ResourceError && re.test(e.message));
    });
  }
});
