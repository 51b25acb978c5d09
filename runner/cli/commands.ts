/** Every subcommand's registration, in the order `--help` lists them. */
import type { Command } from 'commander';
import type { RunContext } from '../context';
import { registerBackup } from './backup';
import { registerList } from './list';
import { registerRestore } from './restore';
import { registerVerify } from './verify';
import { registerPrune } from './prune';
import { registerStatus } from './status';
import { registerRedis } from './redis';
import { registerDrill } from './drill';
import { registerClone } from './clone';
import { registerSchedule } from './schedule';
import { registerReport } from './report';
import { registerPitr } from './pitr';

/**
 * `runCli` runs a whole CLI invocation in-process with its own context: the scheduler's jobs go through it, so a
 * scheduled run takes exactly the path of a one-shot one. It is handed in (not imported) to keep the import
 * graph free of circles: main.ts builds the program from this list.
 */
export type RunCli = (argv: string[], ctx: RunContext) => Promise<number>;
export type RegisterCommand = (program: Command, ctx: RunContext, setExit: (code: number) => void, runCli: RunCli) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerBackup,
  registerList,
  registerRestore,
  registerVerify,
  registerPrune,
  registerStatus,
  registerRedis,
  registerDrill,
  registerClone,
  registerSchedule,
  registerReport,
  registerPitr,
];
