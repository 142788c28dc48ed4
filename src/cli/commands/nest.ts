import type { Argv, CommandModule } from 'yargs';
import type { CliDeps, GlobalArgs } from '../context';
import { buildCommand } from './nest-build';
import { checkCommand } from './nest-check';
import { learnCommand } from './nest-learn';
import { runNestMenu } from './nest-menu';
import { quickStartCommand } from './nest-quickstart';

/** `budgie nest`: the setup menu on a terminal; each of its entries is also a subcommand. */
export function nestCommand(deps: CliDeps): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'nest',
    describe: 'Set up this machine: a menu, or quickstart, build, check, learn',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(quickStartCommand(deps))
        .command(buildCommand(deps))
        .command(checkCommand(deps))
        .command(learnCommand(deps)),
    handler: (args) => runNestMenu(deps, args),
  };
}
