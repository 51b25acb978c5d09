/**
 * Amazon RDS on moto_server for tests (the same moto the S3 tests start; .ci/run installs it from PyPI), with
 * the official client pointed at it. moto's instances are records only: they run no PostgreSQL, are
 * "available" at once, and report no automated-backup restore window (so Lifeboat's window falls back to the
 * instance's creation and backup retention, as documented in runner/pitr/rds.ts).
 *
 * moto's default VPC has subnets; a DB subnet group needs real subnet ids, which the test reads through moto's
 * EC2 query API directly (the project has no EC2 client: one form POST is all it takes). Credentials are dummy
 * values, test-only.
 */
import { CreateDBParameterGroupCommand, CreateDBSubnetGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { startMoto, type S3Emulator } from './s3';

export interface RdsEmulator {
  endpoint: string;
  /** For CLI children and in-process runs: dummy keys, the region, AWS_ENDPOINT_URL_RDS. */
  env: NodeJS.ProcessEnv;
  /** A fresh client on the emulator (each test may add its own middleware). */
  client(): RDSClient;
  /** Ids of moto's default subnets (two or more, in different zones). */
  defaultSubnets(): Promise<string[]>;
  createSubnetGroup(name: string): Promise<void>;
  createParameterGroup(name: string, family?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startMotoRds(): Promise<RdsEmulator> {
  const moto: S3Emulator = await startMoto();
  const env = { ...moto.env, AWS_ENDPOINT_URL_RDS: moto.endpoint };
  const clients: RDSClient[] = [];
  const client = (): RDSClient => {
    const c = new RDSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    clients.push(c);
    return c;
  };
  const admin = client();
  const defaultSubnets = async (): Promise<string[]> => {
    const r = await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // moto reads the region and service from the credential scope; the signature is not checked.
        authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=DescribeSubnets&Version=2016-11-15',
    });
    const ids = [...(await r.text()).matchAll(/<subnetId>([^<]+)<\/subnetId>/g)].map((m) => m[1]!);
    if (ids.length < 2) throw new Error(`moto's default VPC has ${ids.length} subnets, expected at least 2`);
    return ids;
  };
  return {
    endpoint: moto.endpoint,
    env,
    client,
    defaultSubnets,
    async createSubnetGroup(name) {
      const ids = (await defaultSubnets()).slice(0, 2);
      await admin.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: name, DBSubnetGroupDescription: 'lifeboat test', SubnetIds: ids }));
    },
    async createParameterGroup(name, family = 'postgres16') {
      await admin.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: name, DBParameterGroupFamily: family, Description: 'lifeboat test' }));
    },
    async stop() {
      for (const c of clients) c.destroy();
      await moto.stop();
    },
  };
}
