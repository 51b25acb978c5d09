/**
 * AWS provider v7 splits an S3 bucket's settings into separate resources (public access block, encryption,
 * versioning, lifecycle, object lock). They are linked to their bucket by dependency (`bucket: bucket.id`) or,
 * when both are known, by the bucket name.
 */
import { T, isBackupBucket } from './conventions';
import { ofType, type StackView, type Subject } from './rule';
import { at } from './values';

export function backupBuckets(stack: StackView): Subject[] {
  return ofType(stack, T.s3Bucket).filter((b) => isBackupBucket(b.urn, b.labels));
}

export function companionsOf(stack: StackView, bucket: Subject, types: readonly string[]): Subject[] {
  const name = at(bucket.props, 'bucket');
  return ofType(stack, types).filter((c) => c.dependencies.includes(bucket.urn) || (typeof name === 'string' && at(c.props, 'bucket') === name));
}
