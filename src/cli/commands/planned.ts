import type { CommandModule } from 'yargs';
import { NotBuiltError } from '../failure';
import type { GlobalArgs } from '../context';

/** Commands that are part of Budgie's interface but not in this build yet: they say so, exit 2. */
const PLANNED: { command: string; describe: string }[] = [];

export function plannedCommands(): CommandModule<GlobalArgs, GlobalArgs>[] {
  return PLANNED.map(({ command, describe }) => ({
    command,
    describe: `${describe} (not built yet)`,
    handler: () => {
      const name = command.split(' ')[0] ?? command;
      throw new NotBuiltError(`'budgie ${name}' is not built yet in this version of Budgie`);
    },
  }));
}
