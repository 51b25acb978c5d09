/** `lifeboat pitr heartbeat`: one row in lifeboat.heartbeat (created on first use), for drills to check against. */
import { connectPg, type ConnInfo } from '../pg/connection';
import { writeHeartbeat, type Heartbeat } from '../pitr/heartbeat';

export async function runPitrHeartbeat(opts: { conn: ConnInfo }): Promise<Heartbeat> {
  const c = await connectPg(opts.conn);
  try {
    return await writeHeartbeat(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
