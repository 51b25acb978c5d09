/**
 * The long help of the program and of each command, shown by `lifeboat [command] --help` after the options: what
 * each flag does beyond its one line, what the command guarantees, the environment it reads, its exit codes and
 * examples, in a file per command group under help/. The README links here rather than repeating it;
 * test/runner/help.test.ts checks that every flag of a command appears in its help.
 */
import { PITR_HELP } from './help/pitr';
import { POSTGRES_HELP } from './help/postgres';
import { REDIS_HELP } from './help/redis';
import { SCHEDULE_HELP } from './help/schedule';

export { PROGRAM_HELP } from './help/program';

/** Keyed by the command file name: `redis-backup` is `lifeboat redis backup`. */
export const COMMAND_HELP = { ...POSTGRES_HELP, ...REDIS_HELP, ...SCHEDULE_HELP, ...PITR_HELP };

export type HelpTopic = keyof typeof COMMAND_HELP;
