/**
 * Kubernetes CronJob manifests for the runner tasks (infra/shared/taskPlan.ts), as plain objects: the component
 * hands them to `k8s.batch.v1.CronJob` and the tests validate them against the Kubernetes schemas.
 *
 * Hardening: one run at a time (Forbid), a bounded start delay, a hard deadline per run, few retries (exit 2 is bad
 * config and fails again), finished Jobs kept a day so failures can be seen and alerted on, non-root with a read-only
 * root filesystem and an emptyDir for the runner's scratch space, and secrets only by reference.
 */
import { RUNNER_ENV, RUNNER_TMP_DIR, RUNNER_UID, type RunnerIdentity, type RunnerTask } from '../shared/taskPlan';

export const COMMON_LABELS = { 'app.kubernetes.io/name': 'lifeboat', 'app.kubernetes.io/managed-by': 'pulumi' } as const;

export interface CronJobOptions {
  namespace: string;
  image: string;
  /** IANA time zone of the schedule (CronJob spec.timeZone). */
  timeZone: string;
  /** ServiceAccount per identity. */
  serviceAccounts: Record<RunnerIdentity, string>;
  /** Key inside each Kubernetes Secret that holds the value (the Secret is named like the config's secret). */
  secretKey: string;
  /** A Secret whose keys all become environment variables (storage credentials for a given S3-compatible URL). */
  envFromSecret?: string;
  resources: { cpuRequest: string; memoryRequest: string; memoryLimit: string; cpuLimit?: string };
  /** Size limit of the /tmp emptyDir; drills spool a whole dump there, so size it to the largest dump. */
  scratchSize: string;
  startingDeadlineSeconds: number;
  backoffLimit: number;
  ttlSecondsAfterFinished: number;
  /** A suspended CronJob never runs on its own: a template for `kubectl create job --from=cronjob/...` (DR restores). */
  suspend?: boolean;
}

/** CronJob names are limited to 52 characters (the controller appends an 11-character suffix to Job names). */
export const CRONJOB_NAME_MAX = 52;

export function cronJobName(task: RunnerTask): string {
  return `lifeboat-${task.id}`;
}

/** A manifest object in the shape `k8s.batch.v1.CronJob` takes (apiVersion/kind included for schema validation). */
export function cronJobManifest(task: RunnerTask, o: CronJobOptions) {
  const name = cronJobName(task);
  if (name.length > CRONJOB_NAME_MAX) {
    throw new Error(`CronJob name "${name}" is ${name.length} characters; Kubernetes allows ${CRONJOB_NAME_MAX}`);
  }
  // `lifeboat-task` / `lifeboat-source` are the conventions the policy pack links jobs to databases by.
  const labels = {
    ...COMMON_LABELS,
    'app.kubernetes.io/component': task.kind,
    'app.kubernetes.io/instance': task.source,
    'lifeboat-task': task.kind,
    'lifeboat-source': task.source,
  };
  const env = [
    ...Object.entries(task.env).map(([envName, value]) => ({ name: envName, value })),
    ...Object.entries(task.secretEnv).map(([envName, secret]) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: secret, key: o.secretKey } },
    })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: o.namespace, labels },
    spec: {
      schedule: task.schedule,
      ...(o.suspend ? { suspend: true } : {}),
      timeZone: o.timeZone,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: o.startingDeadlineSeconds,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: o.backoffLimit,
          activeDeadlineSeconds: task.timeoutSeconds,
          ttlSecondsAfterFinished: o.ttlSecondsAfterFinished,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: o.serviceAccounts[task.identity],
              // Cloud identity comes from the IRSA-projected token or the GKE metadata server, not the API token.
              automountServiceAccountToken: false,
              restartPolicy: 'Never',
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUNNER_UID,
                runAsGroup: RUNNER_UID,
                fsGroup: RUNNER_UID,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'runner',
                  image: o.image,
                  args: task.args,
                  env,
                  ...(o.envFromSecret ? { envFrom: [{ secretRef: { name: o.envFromSecret } }] } : {}),
                  resources: {
                    requests: { cpu: o.resources.cpuRequest, memory: o.resources.memoryRequest, 'ephemeral-storage': o.scratchSize },
                    limits: {
                      memory: o.resources.memoryLimit,
                      'ephemeral-storage': o.scratchSize,
                      ...(o.resources.cpuLimit ? { cpu: o.resources.cpuLimit } : {}),
                    },
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    capabilities: { drop: ['ALL'] },
                  },
                  volumeMounts: [{ name: 'scratch', mountPath: RUNNER_TMP_DIR }],
                },
              ],
              volumes: [{ name: 'scratch', emptyDir: { sizeLimit: o.scratchSize } }],
            },
          },
        },
      },
    },
  };
}

export type CronJobManifest = ReturnType<typeof cronJobManifest>;

/** Env names that must come from secrets, never as plain values (a guard the tests and the component share). */
export const SECRET_ENV_NAMES: readonly string[] = [RUNNER_ENV.databaseUrl, RUNNER_ENV.scratchUrl, RUNNER_ENV.redisUrl, RUNNER_ENV.ageIdentity];
