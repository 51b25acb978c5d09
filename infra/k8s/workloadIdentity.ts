/**
 * How a Kubernetes ServiceAccount becomes a cloud identity, as pure functions (tested as data):
 *
 * - GKE Workload Identity: the GCP service account grants `roles/iam.workloadIdentityUser` to the member
 *   `serviceAccount:<cluster project>.svc.id.goog[<namespace>/<ksa>]`, and the KSA names the GCP account in its
 *   `iam.gke.io/gcp-service-account` annotation. Both halves are needed; either alone gives the pod nothing.
 * - EKS IRSA: the IAM role trusts the cluster's OIDC provider for the subject `system:serviceaccount:<ns>:<ksa>`
 *   (iamDocuments.irsaTrustPolicy), and the KSA names the role in its `eks.amazonaws.com/role-arn` annotation.
 */

export const WORKLOAD_IDENTITY_USER_ROLE = 'roles/iam.workloadIdentityUser';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** The Workload Identity pool of a GKE cluster's project. */
export function workloadIdentityPool(clusterProject: string): string {
  if (!GCP_PROJECT.test(clusterProject)) throw new Error(`clusterProject: expected a GCP project id, got ${JSON.stringify(clusterProject)}`);
  return `${clusterProject}.svc.id.goog`;
}

/** The IAM member a pod running as `namespace/serviceAccount` is, to GCP. */
export function workloadIdentityMember(clusterProject: string, namespace: string, serviceAccount: string): string {
  if (!DNS_LABEL.test(namespace)) throw new Error(`namespace: expected a Kubernetes name, got ${JSON.stringify(namespace)}`);
  if (!DNS_LABEL.test(serviceAccount)) throw new Error(`serviceAccount: expected a Kubernetes name, got ${JSON.stringify(serviceAccount)}`);
  return `serviceAccount:${workloadIdentityPool(clusterProject)}[${namespace}/${serviceAccount}]`;
}

/** The account id inside an IAM OIDC provider ARN (IRSA roles live in that account: they must trust its provider). */
export function oidcProviderAccount(oidcProviderArn: string): string {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):oidc-provider\/.+$/.exec(oidcProviderArn);
  if (!m) throw new Error(`oidcProviderArn: expected arn:aws:iam::<account>:oidc-provider/<issuer>, got ${JSON.stringify(oidcProviderArn)}`);
  return m[1]!;
}
