import type { CommandModule } from 'yargs';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';
import { shortId } from '../replicas';

interface StopArgs extends GlobalArgs {
  target: string;
}

/**
 * `budgie stop` and `budgie rm`: stop a replica or a whole app and print the stopped IDs. `rm` is
 * `stop` until the agent keeps stopped replicas around to remove.
 */
export function stopCommands(deps: CliDeps): CommandModule<GlobalArgs, StopArgs>[] {
  const handler = (args: StopArgs) =>
    withClient(args, async (client) => {
      const res = await client.stopApp(args.target);
      deps.stdout.write(res.stoppedIds.map((id) => `${shortId(id)}\n`).join(''));
    });
  const target = {
    type: 'string',
    demandOption: true,
    describe: 'A replica ID (or prefix) or an app name',
  } as const;
  return [
    {
      command: 'stop <target>',
      describe: 'Stop a replica or a whole app',
      builder: (y) =>
        y
          .positional('target', target)
          .example('$0 stop webapp', 'Stop every replica of webapp and forget the app')
          .example('$0 stop 3f2a9c1b7d0e', 'Stop one replica (the agent replaces it)'),
      handler,
    },
    {
      command: 'rm <target>',
      describe: 'Remove a replica or a whole app (stops it first)',
      builder: (y) =>
        y
          .positional('target', target)
          .example('$0 rm webapp', 'Stop and remove every replica of webapp'),
      handler,
    },
  ];
}
