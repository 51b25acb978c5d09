/**
 * The AWS section (owned by the AWS/Kubernetes work, issue 6): a placeholder schema until it is filled in.
 * `aws:region` is the provider's own key.
 */
import { z } from 'zod';

export const awsSectionSchema = z.looseObject({});

export const awsKeys = {
  'aws:region': z.string().min(1).optional(),
  'lifeboat:aws': awsSectionSchema.optional(),
};

export type AwsSection = z.output<typeof awsSectionSchema>;

export interface AwsConfig extends AwsSection {
  region: string;
}
