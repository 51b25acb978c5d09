/**
 * Where a runner image lives, read from its reference: an Artifact Registry repository
 * (`<location>-docker.pkg.dev/<project>/<repository>/<image>[@sha256:...|:tag]`), or somewhere else.
 */
export interface RegistryRepository {
  project: string;
  location: string;
  repository: string;
}

const ARTIFACT_REGISTRY = /^([a-z0-9-]+)-docker\.pkg\.dev\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/([a-z0-9][a-z0-9._-]*)\/[^@:]+(?::[^@]+)?(?:@sha256:[0-9a-f]{64})?$/;

/** The Artifact Registry repository of an image, or undefined for any other registry. */
export function artifactRegistryOf(image: string): RegistryRepository | undefined {
  const m = ARTIFACT_REGISTRY.exec(image);
  return m ? { location: m[1]!, project: m[2]!, repository: m[3]! } : undefined;
}

/** Whether the image is pinned by digest (`...@sha256:<64 hex>`): the bytes it names can never change. */
export function pinnedByDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/** Cloud Run's service agent of a project: it pulls the images of the project's jobs. */
export function cloudRunServiceAgent(projectNumber: string): string {
  return `serviceAccount:service-${projectNumber}@serverless-robot-prod.iam.gserviceaccount.com`;
}

export const ARTIFACT_REGISTRY_READER = 'roles/artifactregistry.reader';
