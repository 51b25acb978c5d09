/**
 * lifeboat:aws:RunnerSecrets: the Secrets Manager secrets the runner tasks read (database, scratch and Redis URLs, the
 * age identity), created empty by the stack; their values are written out of band by whoever owns the credentials
 * (`aws secretsmanager put-secret-value --secret-id <name> --secret-string ...`), so no value enters Pulumi state.
 *
 * Why the stack creates them rather than referring to them by name: ECS accepts only the *full* ARN of a Secrets
 * Manager secret in a container's `secrets[].valueFrom` (a bare name is looked up in SSM Parameter Store, and a
 * partial ARN without the 6-character suffix is refused by IAM), and that suffix is known only once the secret
 * exists. Owning the secret gives the task definitions and the execution roles its exact ARN. Like the GCP stack's
 * secrets, each is replicated to the DR region when the stack has one.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

export interface RunnerSecretsArgs {
  region: string;
  /** Secret names (unique; duplicates are created once). */
  secretNames: string[];
  /** Regions each secret is replicated to (the DR region). Default: none. */
  replicaRegions?: string[];
  /** Ephemeral stacks delete secrets at once on destroy; others keep them recoverable for 30 days. Default: false. */
  ephemeral?: boolean;
  tags?: Record<string, string>;
}

/** Secrets Manager names: 1-512 of letters, digits and /_+=.@-. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * A name ending in a hyphen and six characters reads like a full ARN's random suffix: Secrets Manager then
 * resolves ARNs and names ambiguously (documented in its troubleshooting guide), so such names are refused.
 */
export function ambiguousSecretName(name: string): boolean {
  return /-[A-Za-z0-9]{6}$/.test(name);
}

export class RunnerSecrets extends pulumi.ComponentResource {
  public readonly secrets: Record<string, aws.secretsmanager.Secret>;
  /** Full ARN (with the random suffix) per secret name. */
  public readonly arns: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: RunnerSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:aws:RunnerSecrets', name, {}, opts);
    const replicas = [...new Set(args.replicaRegions ?? [])];
    if (replicas.includes(args.region)) {
      throw new pulumi.ResourceError(`${name}: replicaRegions: expected regions other than ${args.region}, got it among them`, this);
    }
    this.secrets = {};
    this.arns = {};
    for (const secretName of [...new Set(args.secretNames)]) {
      if (!SECRET_NAME.test(secretName)) {
        throw new pulumi.ResourceError(`${name}: secretNames: expected a Secrets Manager name (letters, digits, /_+=.@-), got ${JSON.stringify(secretName)}`, this);
      }
      this.secrets[secretName] = new aws.secretsmanager.Secret(
        `${name}-${secretName.replace(/[^A-Za-z0-9-]/g, '-')}`,
        {
          region: args.region,
          name: secretName,
          description: 'Lifeboat runner secret: the value is written out of band, never by Pulumi',
          recoveryWindowInDays: args.ephemeral ? 0 : 30,
          ...(replicas.length ? { replicas: replicas.map((region) => ({ region })) } : {}),
          tags: { ...(args.tags ?? {}), 'lifeboat-role': 'runner-secret' },
        },
        { parent: this },
      );
      this.arns[secretName] = this.secrets[secretName].arn;
    }
    this.registerOutputs({ arns: this.arns });
  }
}
