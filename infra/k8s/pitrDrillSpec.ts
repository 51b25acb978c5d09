/**
 * The CronJob of a self-hosted PITR drill on Kubernetes: the runner's hardened CronJob (cronJobSpec.ts) with the
 * image that has pgBackRest and the PostgreSQL server, and pgBackRest's configuration for the source.
 *
 * Why a CronJob of its own, and not one that mounts the database's volume: the drill restores from the
 * repository into its own scratch folder and never reads the data directory. It needs what `pitr init` wrote
 * (pgbackrest.conf, lifeboat.json, the passphrase), which the operator copies into a Secret once. pgBackRest
 * writes its logs and locks into that folder, and a Secret volume is read-only, so an init container copies the
 * files into an emptyDir at the same path (the paths inside pgbackrest.conf are absolute; the Secret's files are
 * readable by the pod's fsGroup, mode 0440), with 0600 secrets
 * owned by the runner's user, which is also the user pgBackRest and the throwaway server then run as.
 *
 * `pitr backup` is the one that needs the data directory, the server's socket and the cluster's OS user: it runs
 * in the database's pod (docs/kubernetes.md), never from a CronJob that mounts the database's volume, which would
 * pin a second pod to the database's node (ReadWriteOnce), fail outright on ReadWriteOncePod, and still lack the
 * socket and the archive_command side.
 */
import { PITR_CONFIG_DIR } from '../shared/pitrTasks';
import type { RunnerTask } from '../shared/taskPlan';
import { cronJobManifest, type CronJobManifest, type CronJobOptions } from './cronJobSpec';

/** The Secret keys the drill reads; `secret-*` keys land in the 0700 `secret/` folder without their prefix. */
export const PITR_CONFIG_KEYS = ['pgbackrest.conf', 'lifeboat.json', 'secret-cipher.conf', 'secret-s3.conf'] as const;

export interface PitrDrillSpecOptions extends CronJobOptions {
  /** An image with the runner, pgBackRest and the PostgreSQL server of the cluster's major. */
  drillImage: string;
  /** The Kubernetes Secret holding the source's pgBackRest configuration (PITR_CONFIG_KEYS). */
  configSecret: string;
}

/** Shell run by the init container (POSIX sh; nothing from the Secret is interpreted, only copied). */
export function copyConfigScript(source: string): string {
  const dest = `${PITR_CONFIG_DIR}/${source}`;
  return [
    'set -eu',
    `mkdir -p ${dest}/secret`,
    `cp /pitr-config/pgbackrest.conf /pitr-config/lifeboat.json ${dest}/`,
    `for f in /pitr-config/secret-*; do [ -e "$f" ] || continue; cp "$f" ${dest}/secret/"$(basename "$f" | sed 's/^secret-//')"; done`,
    `chmod 0700 ${dest}/secret`,
    `chmod 0600 ${dest}/secret/* 2>/dev/null || true`,
  ].join('\n');
}

export function pitrDrillCronJobManifest(task: RunnerTask, o: PitrDrillSpecOptions): CronJobManifest {
  if (task.kind !== 'pitr-drill') throw new Error(`pitrDrillCronJobManifest: expected a pitr-drill task, got ${task.kind} (${task.id})`);
  const base = cronJobManifest(task, { ...o, image: o.drillImage });
  const pod = base.spec.jobTemplate.spec.template.spec;
  const runner = pod.containers[0]!;
  const configMount = { name: 'pitr-config', mountPath: PITR_CONFIG_DIR };
  const init = {
    name: 'pitr-config',
    image: o.drillImage,
    command: ['sh', '-c', copyConfigScript(task.source)],
    securityContext: runner.securityContext,
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    volumeMounts: [configMount, { name: 'pitr-config-source', mountPath: '/pitr-config', readOnly: true }],
  };
  const spec = {
    ...pod,
    initContainers: [init],
    containers: [{ ...runner, volumeMounts: [...runner.volumeMounts, configMount] }],
    volumes: [
      ...pod.volumes,
      { name: 'pitr-config', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'pitr-config-source', secret: { secretName: o.configSecret, defaultMode: 0o440 } },
    ],
  };
  return {
    ...base,
    spec: { ...base.spec, jobTemplate: { ...base.spec.jobTemplate, spec: { ...base.spec.jobTemplate.spec, template: { ...base.spec.jobTemplate.spec.template, spec } } } },
  } as CronJobManifest;
}
