#!/usr/bin/env node
/** Entry point: `lifeboat <command> ...` (in the image) or `npm run lifeboat -- <command> ...` (from source). */
import { main } from './cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`lifeboat: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
