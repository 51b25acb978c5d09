import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { freePort, retryWhilePortTaken } from './ports';

test('freePort gives a bindable port below the kernel ephemeral range, which outgoing connections never take', async () => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(port >= 1024 && port < low, `port ${port} should be below the ephemeral range starting at ${low}`);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => srv.close(r));
  }
});

test('retryWhilePortTaken starts again after "Address already in use", and only then', async () => {
  let calls = 0;
  const started = await retryWhilePortTaken(async () => {
    calls++;
    if (calls < 3) throw new Error('could not start: could not bind IPv4 address "127.0.0.1": Address already in use');
    return 'up';
  });
  assert.equal(started, 'up');
  assert.equal(calls, 3);

  let other = 0;
  await assert.rejects(
    retryWhilePortTaken(async () => {
      other++;
      throw new Error('initdb: directory exists');
    }),
    /directory exists/,
  );
  assert.equal(other, 1, 'another failure is not retried');

  let always = 0;
  await assert.rejects(
    retryWhilePortTaken(async () => {
      always++;
      throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    }),
    /EADDRINUSE/,
  );
  assert.equal(always, 4, 'gives up after four tries');
});
