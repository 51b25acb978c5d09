/**
 * Pulumi mocks for the offline synth and the infra tests: every resource "creates" with its inputs as state plus
 * the few computed outputs the program reads (service account emails, connection names, secret ids). Provider
 * functions the program calls are answered here; an unknown one fails loudly, naming its token, so a new data
 * source cannot silently return nothing.
 */
import type * as pulumi from '@pulumi/pulumi';

/** What a mocked Secret Manager read returns; tests assert it never appears outside a secret. */
export const MOCK_SECRET_DATA = 'mock-secret-data-3d7c1f';
export const MOCK_PROJECT_NUMBER = '123456789012';

export interface MockOptions {
  /** Project used when a resource sets none (the `gcp:project` config). */
  gcpProject?: string;
  gcpRegion?: string;
  awsRegion?: string;
  awsAccountId?: string;
}

type State = Record<string, unknown>;

function gcpComputed(type: string, name: string, inputs: State, o: MockOptions): State {
  const project = (inputs.project as string | undefined) ?? o.gcpProject ?? 'mock-project';
  const region = (inputs.region as string | undefined) ?? (inputs.location as string | undefined) ?? o.gcpRegion ?? 'mock-region';
  switch (type) {
    case 'gcp:serviceaccount/account:Account': {
      const email = `${inputs.accountId as string}@${project}.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}`, name: `projects/${project}/serviceAccounts/${email}`, uniqueId: '1000' };
    }
    case 'gcp:storage/bucket:Bucket':
      return { url: `gs://${inputs.name as string}`, selfLink: `https://www.googleapis.com/storage/v1/b/${inputs.name as string}` };
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      return { connectionName: `${project}:${region}:${inputs.name as string}`, name: inputs.name ?? name };
    case 'gcp:secretmanager/secret:Secret':
      return { name: `projects/${MOCK_PROJECT_NUMBER}/secrets/${inputs.secretId as string}` };
    case 'gcp:secretmanager/secretVersion:SecretVersion':
      return { name: `projects/${MOCK_PROJECT_NUMBER}/secrets/mock/versions/1`, version: '1' };
    case 'gcp:cloudrunv2/job:Job':
      return { uid: `${name}-uid` };
    case 'gcp:monitoring/notificationChannel:NotificationChannel':
      return { name: `projects/${project}/notificationChannels/${name}` };
    case 'gcp:projects/iAMCustomRole:IAMCustomRole':
      return { name: `projects/${project}/roles/${inputs.roleId as string}` };
    case 'gcp:kms/cryptoKey:CryptoKey':
      return {};
    case 'gcp:redis/instance:Instance':
      return { host: '10.20.0.3', port: 6379, authString: MOCK_SECRET_DATA };
    default:
      return {};
  }
}

/**
 * AWS computed outputs the program reads: ARNs in their real shapes (IAM policies and schedules are built from
 * them), role and cluster names. Account and region come from the inputs, else the mock options.
 */
function awsComputed(type: string, name: string, inputs: State, o: MockOptions): State {
  const region = (inputs.region as string | undefined) ?? o.awsRegion ?? 'eu-west-1';
  const account = o.awsAccountId ?? '123456789012';
  const own = (inputs.name as string | undefined) ?? name;
  switch (type) {
    case 'aws:s3/bucket:Bucket': {
      const bucket = (inputs.bucket as string | undefined) ?? name;
      return { bucket, arn: `arn:aws:s3:::${bucket}`, region };
    }
    case 'aws:kms/key:Key':
      return { arn: `arn:aws:kms:${region}:${account}:key/${name}`, keyId: name };
    case 'aws:iam/role:Role':
      return { name: own, arn: `arn:aws:iam::${account}:role/${own}` };
    case 'aws:ecs/cluster:Cluster':
      return { name: own, arn: `arn:aws:ecs:${region}:${account}:cluster/${own}` };
    case 'aws:ecs/taskDefinition:TaskDefinition':
      return { arn: `arn:aws:ecs:${region}:${account}:task-definition/${inputs.family as string}:1`, revision: 1 };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { name: own, arn: `arn:aws:logs:${region}:${account}:log-group:${own}` };
    case 'aws:sns/topic:Topic':
      return { name: own, arn: `arn:aws:sns:${region}:${account}:${own}` };
    case 'aws:rds/instance:Instance':
      return {
        arn: `arn:aws:rds:${region}:${account}:db:${inputs.identifier as string}`,
        address: `${inputs.identifier as string}.mock.${region}.rds.amazonaws.com`,
        port: 5432,
      };
    case 'aws:scheduler/scheduleGroup:ScheduleGroup':
      return { name: own, arn: `arn:aws:scheduler:${region}:${account}:schedule-group/${own}` };
    default:
      return { arn: `arn:aws:mock:${region}:${account}:${name}` };
  }
}

function idOf(type: string, name: string, inputs: State, o: MockOptions): string {
  const project = (inputs.project as string | undefined) ?? o.gcpProject ?? 'mock-project';
  switch (type) {
    case 'gcp:secretmanager/secret:Secret':
      return `projects/${project}/secrets/${inputs.secretId as string}`;
    case 'gcp:cloudrunv2/job:Job':
      return `projects/${project}/locations/${inputs.location as string}/jobs/${inputs.name as string}`;
    case 'gcp:storage/bucket:Bucket':
      return inputs.name as string;
    default:
      return `${name}-id`;
  }
}

/** Mocks for setMocks: deterministic, no network, no autonaming (names are what the program set). */
export function createMocks(o: MockOptions = {}): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      if (!args.custom) return { id: undefined, state: {} };
      const inputs = args.inputs as State;
      const computed = args.type.startsWith('gcp:')
        ? gcpComputed(args.type, args.name, inputs, o)
        : args.type.startsWith('aws:')
          ? awsComputed(args.type, args.name, inputs, o)
          : {};
      return { id: args.id || idOf(args.type, args.name, inputs, o), state: { ...inputs, ...computed } };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      const inputs = args.inputs as State;
      switch (args.token) {
        case 'gcp:secretmanager/getSecretVersionAccess:getSecretVersionAccess':
        case 'gcp:secretmanager/getSecretVersion:getSecretVersion':
          return { ...inputs, secretData: MOCK_SECRET_DATA, version: '1' };
        case 'gcp:organizations/getProject:getProject':
          // Never undefined: the engine's test double answers with no options, and a struct cannot hold undefined.
          return { projectId: inputs.projectId ?? o.gcpProject ?? 'mock-project', number: MOCK_PROJECT_NUMBER, name: inputs.projectId ?? o.gcpProject ?? 'mock-project' };
        case 'gcp:storage/getProjectServiceAccount:getProjectServiceAccount':
          return { emailAddress: `service-${MOCK_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com` };
        case 'gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount':
          return {
            email: `project-${MOCK_PROJECT_NUMBER}@storage-transfer-service.iam.gserviceaccount.com`,
            member: `serviceAccount:project-${MOCK_PROJECT_NUMBER}@storage-transfer-service.iam.gserviceaccount.com`,
          };
        case 'aws:index/getCallerIdentity:getCallerIdentity':
          return { accountId: o.awsAccountId ?? '111122223333', arn: 'arn:aws:iam::111122223333:user/mock', userId: 'mock' };
        case 'aws:index/getRegion:getRegion':
          return { name: o.awsRegion ?? 'eu-west-1', region: o.awsRegion ?? 'eu-west-1' };
        case 'aws:secretsmanager/getSecretVersion:getSecretVersion':
          return { ...inputs, secretString: MOCK_SECRET_DATA, versionId: 'mock-version' };
        case 'aws:secretsmanager/getSecret:getSecret': {
          // A secret that exists already (the age identity's replica in the DR region): its ARN carries the suffix.
          const region = (inputs.region as string | undefined) ?? o.awsRegion ?? 'eu-west-1';
          const name = inputs.name as string;
          return { ...inputs, arn: `arn:aws:secretsmanager:${region}:${o.awsAccountId ?? '123456789012'}:secret:${name}-MoCk01`, name };
        }
        case 'aws:index/getPartition:getPartition':
          return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
        default:
          throw new Error(`the offline mocks do not answer provider function ${args.token}: add it to infra/synth/mocks.ts`);
      }
    },
  };
}
