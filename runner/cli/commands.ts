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
import { registerPitr } from './pitr';

export type RegisterCommand = (program: Command, ctx: RunContext, setExit: (code: number) => void) => void;

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
  registerPitr,
];
