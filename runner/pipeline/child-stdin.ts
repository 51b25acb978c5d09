/**
 * Writing into a child's stdin from node (a streamed restore feeds each zstd so).
 *
 * - childStdin(stdin): write(chunk) resolves once the pipe has the chunk (or is closed, its queued writes cancelled),
 *   so the chunk's buffer may be reused then.
 * - childStdinSink(writer): the same as the last stage of a pipeline.
 *
 * Once the child has closed its stdin (in a restore: its pg_restore had everything it needed and exited, so zstd
 * died of the closed pipe), later bytes are dropped and writes resolve at once: the reading goes on to its end,
 * and the checksum covers every stored byte. Whether the early close was fine is for the exit statuses to say.
 *
 * A finished sink ends stdin and leaves it open until the pipe has taken the last bytes. Destroying stdin right
 * after end() discards what is still queued: the sink this replaced did that through Writable's autoDestroy, and
 * 3 of 25 restores of the bench's 1x dataset failed with zstd's "premature end" (its last, small write had returned
 * true, so it had counted as done while it still waited for room in the pipe).
 */
import { Writable } from 'node:stream';

export interface ChildStdin {
  /** Resolves once the pipe has the chunk (or stdin is gone, and with it the queued write); never rejects. */
  write(chunk: Buffer): Promise<void>;
  /** No more bytes: stdin closes once the queued ones are written. */
  end(): void;
  /** Closes stdin at once, dropping what is queued (the restore is being stopped). */
  abort(): void;
}

export function childStdin(stdin: Writable): ChildStdin {
  // Already closed when the child was killed before anything was written.
  let closed = stdin.destroyed || stdin.writableEnded;
  const close = (): void => {
    closed = true;
  };
  // An EPIPE is the child's to report (its exit status), not the writer's.
  stdin.on('error', close);
  stdin.on('close', close);
  const gone = (): boolean => closed || stdin.destroyed || stdin.writableEnded;
  return {
    write: (chunk) =>
      gone()
        ? Promise.resolve()
        : new Promise((resolve) => {
            // The callback comes once the pipe has the bytes, or with an error once it cannot take them; 'close'
            // covers a stdin destroyed with the write still queued.
            const done = (): void => {
              stdin.off('close', done);
              resolve();
            };
            stdin.once('close', done);
            stdin.write(chunk, done);
          }),
    end: () => {
      if (!gone()) stdin.end();
    },
    abort: () => {
      if (!closed && !stdin.destroyed) stdin.destroy();
    },
  };
}

/** childStdin as a pipeline's last stage: each chunk is taken once the pipe has it; a failed pipeline aborts stdin. */
export function childStdinSink(stdin: ChildStdin): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      void stdin.write(chunk).then(() => cb());
    },
    final(cb) {
      stdin.end();
      cb();
    },
    destroy(err, cb) {
      // Called after a success too (autoDestroy): only a failure may drop what the pipe has not yet taken.
      if (err) stdin.abort();
      cb(err);
    },
  });
}
