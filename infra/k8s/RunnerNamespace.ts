/**
 * lifeboat:k8s:RunnerNamespace: the runner's namespace (created with the `restricted` Pod Security level, or an
 * existing one) and one ServiceAccount per runner identity, annotated for GKE Workload Identity or EKS IRSA so
 * each Job reaches the bucket as its own cloud identity (backup: write, no delete; drill: read).
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import type { RunnerIdentity } from '../shared/taskPlan';
import { COMMON_LABELS } from './cronJobSpec';

export const IDENTITIES: readonly RunnerIdentity[] = ['backup', 'drill'];

/** One ServiceAccount per identity, so each job reaches the bucket with only its own rights. */
export const DEFAULT_SERVICE_ACCOUNT_NAMES: Readonly<Record<RunnerIdentity, string>> = { backup: 'lifeboat-backup', drill: 'lifeboat-drill' };

/** The annotation each platform's workload identity reads from a ServiceAccount. */
export const IDENTITY_ANNOTATIONS = {
  gcp: 'iam.gke.io/gcp-service-account',
  aws: 'eks.amazonaws.com/role-arn',
} as const;

export type CloudIdentity =
  | { kind: 'gcp'; serviceAccounts: Record<RunnerIdentity, pulumi.Input<string>> }
  | { kind: 'aws'; roleArns: Record<RunnerIdentity, pulumi.Input<string>> }
  | { kind: 'none' };

export interface RunnerNamespaceArgs {
  /** Namespace name (a DNS label). */
  namespace: string;
  /** Create the namespace; false when it exists already. Default: true. */
  create?: boolean;
  /** Cloud identity per runner identity. Default: none (storage credentials come from a Secret). */
  identity?: CloudIdentity;
  /** ServiceAccount name per identity. Default: `lifeboat-backup`, `lifeboat-drill`. */
  serviceAccountNames?: Record<RunnerIdentity, string>;
  /** The identities that get a ServiceAccount (a DR stack only reads: `drill`). Default: both. */
  identities?: readonly RunnerIdentity[];
  labels?: Record<string, string>;
}

export class RunnerNamespace extends pulumi.ComponentResource {
  /** The namespace name, depending on the Namespace resource when it is created here. */
  public readonly namespaceName: pulumi.Output<string>;
  public readonly serviceAccountNames: Record<RunnerIdentity, string>;
  public readonly serviceAccounts: Partial<Record<RunnerIdentity, k8s.core.v1.ServiceAccount>>;

  constructor(name: string, args: RunnerNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:k8s:RunnerNamespace', name, {}, opts);
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(args.namespace)) {
      throw new pulumi.ResourceError(`${name}: namespace: expected a Kubernetes name, got ${JSON.stringify(args.namespace)}`, this);
    }
    const labels = { ...COMMON_LABELS, ...(args.labels ?? {}) };
    const identity = args.identity ?? { kind: 'none' };
    this.serviceAccountNames = args.serviceAccountNames ?? { ...DEFAULT_SERVICE_ACCOUNT_NAMES };
    if (this.serviceAccountNames.backup === this.serviceAccountNames.drill) {
      throw new pulumi.ResourceError(`${name}: serviceAccountNames: expected two different names, got "${this.serviceAccountNames.backup}" twice`, this);
    }
    if (args.create ?? true) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        {
          metadata: {
            name: args.namespace,
            labels: {
              ...labels,
              // The runner needs nothing beyond the restricted profile: enforce it for everything in the namespace.
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'latest',
            },
          },
        },
        { parent: this },
      );
      this.namespaceName = ns.metadata.name;
    } else {
      this.namespaceName = pulumi.output(args.namespace);
    }
    this.serviceAccounts = {};
    for (const id of args.identities ?? IDENTITIES) {
      const annotations: Record<string, pulumi.Input<string>> = {};
      if (identity.kind === 'gcp') annotations[IDENTITY_ANNOTATIONS.gcp] = identity.serviceAccounts[id];
      if (identity.kind === 'aws') annotations[IDENTITY_ANNOTATIONS.aws] = identity.roleArns[id];
      this.serviceAccounts[id] = new k8s.core.v1.ServiceAccount(
        `${name}-${id}`,
        {
          metadata: {
            name: this.serviceAccountNames[id],
            namespace: this.namespaceName,
            labels: { ...labels, 'lifeboat-role': `${id}-identity` },
            annotations,
          },
          // No Kubernetes API access is needed; cloud credentials come from IRSA's own token or the GKE metadata server.
          automountServiceAccountToken: false,
        },
        { parent: this },
      );
    }
    this.registerOutputs({ namespace: this.namespaceName, serviceAccountNames: this.serviceAccountNames });
  }
}
