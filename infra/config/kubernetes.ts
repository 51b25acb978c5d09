/**
 * The Kubernetes section (owned by the AWS/Kubernetes work, issue 6): a placeholder schema until it is filled in.
 */
import { z } from 'zod';

export const kubernetesSectionSchema = z.looseObject({});

export const kubernetesKeys = {
  'lifeboat:kubernetes': kubernetesSectionSchema.optional(),
};

export type KubernetesConfig = z.output<typeof kubernetesSectionSchema>;
