import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.
 *
 * Not port 0's answer: the kernel hands those out from its ephemeral range, the same range every outgoing
 * connection of the whole machine takes its source port from, so between our check and the server's bind a
 * connection of another test (the suite makes thousands) could take it ("Address already in use"). A random
 * port below the ephemeral range is never given to an outgoing connection; only another server picking the same
 * one at the same moment could collide, and the harnesses that start servers retry on that (portTaken).
 */
export async function freePort(): Promise<number> {
  const [low, high] = belowEphemeral();
  for (let attempt = 0; attempt < 64; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canBind(port)) return port;
  }
  return kernelPort();
}

/** Whether a server's failure to start says its port was taken meanwhile. */
export function portTaken(message: string): boolean {
  return /address already in use|EADDRINUSE/i.test(message);
}

/**
 * Starts a server on a port of freePort's, again (up to four times in all) when the port was taken between the
 * check and the server's bind. `start` picks its own port each time and cleans up what a failed try made.
 */
export async function retryWhilePortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      if (attempt >= 4 || !portTaken(String((e as Error)?.message ?? e))) throw e;
    }
  }
}

/** [low, high] of the ports below net.ipv4.ip_local_port_range (32768–60999 unless changed), above 10000. */
function belowEphemeral(): [number, number] {
  let ephemeralLow = 32768;
  try {
    const [lo] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && Number.isInteger(lo)) ephemeralLow = lo;
  } catch {
    // not Linux: the default range
  }
  return ephemeralLow > 12000 ? [10000, ephemeralLow - 1] : [1024, 9999];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr && typeof addr === 'object') {
        const { port } = addr;
        srv.close(() => resolve(port));
      } else reject(new Error('could not get a free port'));
    });
  });
}
