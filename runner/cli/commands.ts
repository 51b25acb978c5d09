/** Every subcommand's registration, in the order `--help` lists them. */
import type { Command } from 'commander';
import type { RunContext } from '../context';
import { registerPrune } from './prune';

export type RegisterCommand = (program: Command, ctx: RunContext, setExit: (code: number) => void) => void;

export const COMMANDS: RegisterCommand[] = [];

// Operations (issue 4): retention, health, Redis.
COMMANDS.push(registerPrune);
