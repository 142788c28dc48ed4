import type { CommandModule } from 'yargs';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';
import { shortId } from '../replicas';

interface RmArgs extends GlobalArgs {
  target: string;
  force: boolean;
}

/**
 * `budgie rm`: removes exited replicas (what `ps --all` shows as exited) and prints their IDs. A
 * running replica is the agent's to refuse; `--force` stops it first, as `docker rm -f` does.
 */
export function rmCommand(deps: CliDeps): CommandModule<GlobalArgs, RmArgs> {
  return {
    command: 'rm <target>',
    describe: 'Remove exited replicas: one, or all of an app',
    builder: (y) =>
      y
        .positional('target', {
          type: 'string',
          demandOption: true,
          describe: 'A replica ID (or prefix) or an app name',
        })
        .option('force', {
          alias: 'f',
          type: 'boolean',
          default: false,
          describe: 'Stop running replicas first (an app name: stop and remove the whole app)',
        })
        .example('$0 rm 3f2a9c1b7d0e', 'Remove one exited replica: container, network and log')
        .example('$0 rm webapp', 'Remove every exited replica of webapp; running ones stay')
        .example('$0 rm --force webapp', 'Stop and remove the whole app, like budgie stop'),
    handler: (args) =>
      withClient(args, async (client) => {
        const res = await client.removeReplicas(args.target, args.force);
        deps.stdout.write(res.removedIds.map((id) => `${shortId(id)}\n`).join(''));
      }),
  };
}
