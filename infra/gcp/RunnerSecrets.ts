import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import { lifeboatLabels } from './labels';

/** One secret the stack needs. */
export interface SecretSpec {
  id: string;
  /**
   * Regions its user-managed replicas live in. Secret Manager refuses a new version while any replica's region is
   * down, so a secret written during a regional outage (the application's, repointed after a DR restore) must not
   * have a replica in the primary region.
   */
  replicas: string[];
  /** What the secret is for, shown in its placeholder. */
  purpose: string;
  /** Whether a job reads it (`latest`): only those get a placeholder first version. */
  readByJobs: boolean;
  /** `lifeboat-role` label (policy pack convention), e.g. `application-secret`. Default: none. */
  role?: string;
}

export interface RunnerSecretsArgs {
  project: string;
  /** Secrets to create (values are added out of band: `gcloud secrets versions add <id> --data-file=-`). */
  secrets: SecretSpec[];
  /**
   * Ids of secrets that exist already (created by another stack, e.g. the lost primary's, or by hand): not
   * created, not given a placeholder; the stack only grants access to them. Default: [].
   */
  existing?: string[];
  /** Default: false. */
  ephemeral?: boolean;
  /** Default: {}. */
  labels?: Record<string, string>;
}

/** The text of a created secret's first version: not a credential, and says what to do. */
export function placeholderText(id: string, purpose: string): string {
  return `lifeboat-unset: ${purpose}; write the real value: gcloud secrets versions add ${id} --data-file=-`;
}

/**
 * Secret Manager containers for what the runner reads (database and Redis URLs, scratch URLs). The stack never
 * holds their values: they are written by the people who own the credentials, so no password enters Pulumi state.
 *
 * Each secret it creates that a job reads gets a first version holding a placeholder (no credential): Cloud Run refuses to create a
 * job whose environment names `latest` of a secret without any version, so without it a new stack (and every
 * review stack, whose secrets nobody fills) could not deploy its jobs. A job run before the real value is written
 * fails on the placeholder (a URL the runner refuses, exit 2), which the backup-failed alert reports. The
 * placeholder version is never changed or replaced afterwards (ignoreChanges), so it can never become `latest`
 * again over a real value.
 */
export class RunnerSecrets extends pulumi.ComponentResource {
  readonly secrets: Record<string, gcp.secretmanager.Secret> = {};
  /** The placeholder versions: what a job reading `latest` must wait for. */
  readonly firstVersions: gcp.secretmanager.SecretVersion[] = [];

  constructor(name: string, args: RunnerSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:gcp:RunnerSecrets', name, {}, opts);
    const existing = new Set(args.existing ?? []);
    const seen = new Set<string>();
    for (const spec of args.secrets) {
      if (seen.has(spec.id) || existing.has(spec.id)) continue;
      seen.add(spec.id);
      if (spec.replicas.length === 0) throw new pulumi.ResourceError(`RunnerSecrets ${name}: secret ${spec.id} must name at least one replica region`, this);
      const replicas = [...new Set(spec.replicas)].map((location) => ({ location }));
      const secret = new gcp.secretmanager.Secret(`${name}-${spec.id}`, {
        project: args.project,
        secretId: spec.id,
        replication: { userManaged: { replicas } },
        labels: lifeboatLabels(args.labels ?? {}, args.ephemeral ?? false, spec.role ? { 'lifeboat-role': spec.role } : {}),
        deletionProtection: !(args.ephemeral ?? false),
      }, { parent: this });
      this.secrets[spec.id] = secret;
      if (spec.readByJobs) this.firstVersions.push(new gcp.secretmanager.SecretVersion(`${name}-${spec.id}-placeholder`, {
        secret: secret.id,
        secretData: placeholderText(spec.id, spec.purpose),
      }, { parent: this, ignoreChanges: ['secretData'] }));
    }
    this.registerOutputs({ secretIds: Object.keys(this.secrets) });
  }
}
