/**
 * The RDS rights of the PITR drill (`lifeboat pitr drill --rds`): restore an instance to a point in time into a
 * throwaway instance, watch it, and delete it again, and nothing that could touch the source.
 *
 * - RestoreDBInstanceToPointInTime needs the source instance and the new one (whose name the drill picks, so `db:*`)
 *   plus the subnet, option and parameter groups it reuses. A restore never overwrites: the target must not exist.
 * - DeleteDBInstance only on instances tagged `lifeboat-drill` (its value is the drill's source name), which the
 *   drill tags its clones with at restore time (AddTagsToResource, needed for tags on a restore, limited to
 *   requests that carry that tag). ModifyDBInstance on the same clones only: the drill lifts a deletion protection
 *   a clone inherited before it deletes it.
 * - RDS has no condition that tells "tagging a new instance" from "tagging an existing one", so the sources are
 *   fenced off explicitly: an explicit Deny of tagging, deleting and modifying them wins over every Allow. With
 *   deletion protection on the sources (rds-deletion-protection) and no ModifyDBInstance right, a leaked drill
 *   credential can make clones, not lose a database.
 * - No iam:PassRole: the drill passes no role (no enhanced monitoring role, no directory role) to the restore.
 */
import type { PolicyDocument } from './iamDocuments';

/**
 * The tag the drill puts on its clones (`lifeboat pitr drill` sets it to the source's name); the only instances
 * this identity may delete. Any value matches.
 */
export const PITR_DRILL_TAG = { key: 'lifeboat-drill', value: '*' } as const;

export interface PitrDrillPolicyInput {
  region: string;
  accountId: string;
  /** DBInstanceIdentifier of every instance the stack drills. */
  sourceIdentifiers: string[];
}

export function pitrDrillPolicy(input: PitrDrillPolicyInput): PolicyDocument {
  if (input.sourceIdentifiers.length === 0) throw new Error('pitrDrillPolicy: sourceIdentifiers: expected at least one instance, got none');
  const rds = (what: string) => `arn:aws:rds:${input.region}:${input.accountId}:${what}`;
  const sources = input.sourceIdentifiers.map((id) => rds(`db:${id}`));
  const tag = `${PITR_DRILL_TAG.key}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RestoreToPointInTime',
        Effect: 'Allow',
        Action: ['rds:RestoreDBInstanceToPointInTime'],
        Resource: [...sources, rds('db:*'), rds('subgrp:*'), rds('og:*'), rds('pg:*')],
      },
      {
        Sid: 'TagClonesAtRestore',
        Effect: 'Allow',
        Action: ['rds:AddTagsToResource'],
        Resource: [rds('db:*')],
        Condition: { StringLike: { [`aws:RequestTag/${tag}`]: PITR_DRILL_TAG.value } },
      },
      { Sid: 'WatchInstances', Effect: 'Allow', Action: ['rds:DescribeDBInstances'], Resource: [rds('db:*')] },
      {
        Sid: 'DeleteOwnClones',
        Effect: 'Allow',
        Action: ['rds:DeleteDBInstance', 'rds:ModifyDBInstance'],
        Resource: [rds('db:*')],
        Condition: { StringLike: { [`rds:db-tag/${tag}`]: PITR_DRILL_TAG.value } },
      },
      {
        Sid: 'NeverTheSources',
        Effect: 'Deny',
        Action: ['rds:AddTagsToResource', 'rds:RemoveTagsFromResource', 'rds:DeleteDBInstance', 'rds:ModifyDBInstance'],
        Resource: sources,
      },
    ],
  };
}
