/**
 * TEST DOUBLE of the gcp, aws, kubernetes and random resource providers, for `npm run engine` only.
 *
 * The real Pulumi CLI and Node.js language host run the real program against this provider: it accepts every
 * input as valid and "creates" each resource by returning its inputs plus the few computed outputs the program
 * reads (the same canned shapes as the offline mocks in infra/synth/mocks.ts). It talks to no cloud and no
 * cluster. It cannot tell whether a cloud would accept an input (names, enums, quotas, IAM), and it computes no
 * provider-side defaults; what it lets the engine check is listed in docs/engine.md.
 *
 * Why a test double and not the real providers: gcp and aws are bridged from Terraform and cannot be built from
 * the module proxy (their upstream submodule and patches are not in the module zip); random's provider module
 * is not served; kubernetes' is served at one old pseudo-version only, builds (12 min, 5 GiB), but its `up` needs
 * an API server, which these machines cannot run.
 */
import { randomBytes } from 'node:crypto';
import type * as provider from '@pulumi/pulumi/provider';
import { createMocks } from '../../../infra/synth/mocks';

/** Marks every instance in logs and state ids, so nobody mistakes a run against it for a real deployment. */
export const TEST_DOUBLE_MARK = 'test-double';

export type DoubledPackage = 'gcp' | 'aws' | 'kubernetes' | 'random';
export const DOUBLED_PACKAGES: readonly DoubledPackage[] = ['gcp', 'aws', 'kubernetes', 'random'];

type Props = Record<string, unknown>;

/** `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>` -> type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split('::');
  if (parts.length < 4) throw new Error(`not a resource URN: ${urn}`);
  const type = parts[2].split('$').pop() as string;
  return { type, name: parts.slice(3).join('::') };
}

/**
 * What an import reads: an existing database instance with its owners' sizing and no Lifeboat settings (no
 * backup configuration, no deletion protection), named after the import id (`projects/<p>/instances/<name>` for
 * Cloud SQL, the identifier for RDS). Other types come back with the names only.
 */
export function existingResource(type: string, id: string): Props {
  const gcp = /^projects\/([^/]+)\/[^/]+\/([^/]+)$/.exec(id);
  switch (type) {
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      return {
        project: gcp?.[1],
        name: gcp?.[2] ?? id,
        databaseVersion: 'POSTGRES_16',
        settings: {
          tier: 'db-custom-2-7680',
          edition: 'ENTERPRISE',
          availabilityType: 'REGIONAL',
          diskSize: 100,
          ipConfiguration: { ipv4Enabled: true, sslMode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED' },
          userLabels: { owner: 'app-team' },
        },
      };
    case 'aws:rds/instance:Instance':
      return {
        identifier: id,
        instanceClass: 'db.r6g.large',
        engine: 'postgres',
        engineVersion: '16.4',
        allocatedStorage: 100,
        multiAz: true,
        dbName: 'app',
        username: 'app_admin',
        storageEncrypted: true,
        backupRetentionPeriod: 1,
      };
    default:
      return gcp ? { project: gcp[1], name: gcp[2] } : { name: id };
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh random string, as random's RandomPassword/RandomString make one (letters and digits only). */
function randomText(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

function createRandom(type: string, name: string, inputs: Props): provider.CreateResult {
  switch (type) {
    case 'random:index/randomPassword:RandomPassword':
    case 'random:index/randomString:RandomString': {
      // The SDK marks `result` secret (additionalSecretOutputs); the engine must keep it out of plain state.
      const result = randomText(Number(inputs.length ?? 16));
      return { id: 'none', outs: { ...inputs, result, bcryptHash: `$2a$10$${randomText(53)}` } };
    }
    case 'random:index/randomId:RandomId': {
      const bytes = randomBytes(Number(inputs.byteLength ?? 8));
      return { id: bytes.toString('base64url'), outs: { ...inputs, hex: bytes.toString('hex'), b64Url: bytes.toString('base64url') } };
    }
    default:
      throw new Error(`the ${TEST_DOUBLE_MARK} random provider does not know ${type} (${name}): add it here`);
  }
}

/** Kubernetes objects come back as given; an unnamed one gets its logical name (the real provider autonames). */
function createKubernetes(type: string, name: string, inputs: Props): provider.CreateResult {
  const metadata = { ...((inputs.metadata as Props | undefined) ?? {}) };
  if (metadata.name === undefined) metadata.name = name;
  const ns = metadata.namespace as string | undefined;
  const id = ns ? `${ns}/${metadata.name as string}` : (metadata.name as string);
  return { id, outs: { ...inputs, metadata, kind: inputs.kind ?? type.split(':').pop() } };
}

/**
 * The provider the test-double plugin serves. `version` is what it reports to the engine: the version of the
 * SDK package in node_modules, so the engine's plugin resolution matches what the program asks for.
 */
export function createTestDoubleProvider(pkg: DoubledPackage, version: string): provider.Provider {
  const mocks = createMocks();

  async function create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    const { type, name } = parseUrn(urn);
    if (pkg === 'random') return createRandom(type, name, inputs);
    if (pkg === 'kubernetes') return createKubernetes(type, name, inputs);
    const made = await mocks.newResource({ type, name, inputs, custom: true, id: '' });
    return { id: made.id ?? `${name}-${TEST_DOUBLE_MARK}`, outs: made.state };
  }

  return {
    version,
    create,
    // No `check` and no `diff`: every input is accepted as given, and the engine compares old and new inputs
    // itself to decide what changed (its fallback when a provider gives no detailed diff).
    async update(_id, urn, olds: Props, news: Props) {
      // Generated values (a password) survive an update, as with the real random provider.
      if (pkg === 'random') return { outs: { ...olds, ...news } };
      return { outs: (await create(urn, news)).outs };
    },
    async read(id, urn, props?: Props) {
      if (props && Object.keys(props).length > 0) return { id, props };
      // An import (adopt mode): the resource exists as a team might have left it before Lifeboat adopts it. The
      // engine then applies the program's settings in an update, leaving the ignored properties as read.
      const { type, name } = parseUrn(urn);
      const inputs = existingResource(type, id);
      const made = await mocks.newResource({ type, name, inputs, custom: true, id });
      return { id, props: made.state, inputs };
    },
    async delete() {
      // Nothing exists anywhere, so nothing is deleted; protection is enforced by the engine before this.
    },
    async invoke(token, inputs: Props) {
      return { outputs: await mocks.call({ token, inputs }) };
    },
  };
}
