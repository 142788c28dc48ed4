import type { CommandModule } from 'yargs';
import { wholeNumber } from '../args';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';

interface ScaleArgs extends GlobalArgs {
  app: string;
  replicas: string;
}

/** `budgie scale APP N`, within the app's replicas.min and replicas.max. */
export function scaleCommand(deps: CliDeps): CommandModule<GlobalArgs, ScaleArgs> {
  return {
    command: 'scale <app> <replicas>',
    describe: 'Set how many replicas an app runs',
    builder: (y) =>
      y
        .positional('app', { type: 'string', demandOption: true, describe: 'An app name' })
        .positional('replicas', {
          type: 'string',
          demandOption: true,
          describe: "A whole number within the app's replicas.min and replicas.max",
        })
        .example('$0 scale webapp 3', 'Run three replicas of webapp'),
    handler: (args) => {
      const replicas = wholeNumber(args.replicas, 'replicas', 'budgie scale webapp 3');
      return withClient(args, async (client) => {
        const n = await client.scaleApp(args.app, replicas);
        deps.stdout.write(`${args.app}: scaled to ${n} replica${n === 1 ? '' : 's'}\n`);
      });
    },
  };
}
