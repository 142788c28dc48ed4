import type { CommandModule } from 'yargs';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';
import { shortId } from '../replicas';

interface StopArgs extends GlobalArgs {
  target: string;
  here: boolean;
}

/**
 * `budgie stop`: stop a replica or a whole app, on whichever members run it, and print the
 * stopped IDs.
 */
export function stopCommand(deps: CliDeps): CommandModule<GlobalArgs, StopArgs> {
  return {
    command: 'stop <target>',
    describe: 'Stop a replica or a whole app (on every member that runs it)',
    builder: (y) =>
      y
        .positional('target', {
          type: 'string',
          demandOption: true,
          describe: 'A replica ID (or prefix) or an app name',
        })
        .option('here', {
          type: 'boolean',
          default: false,
          describe: "Only this node's part of the app: members keep running theirs",
        })
        .example('$0 stop webapp', 'Stop webapp on every member that runs it and forget it')
        .example('$0 stop webapp --here', "Stop only this node's replicas of webapp")
        .example('$0 stop 3f2a9c1b7d0e', 'Stop one replica (the agent replaces it)'),
    handler: (args) =>
      withClient(args, async (client) => {
        const res = await client.stopApp(args.target, args.here);
        deps.stdout.write(res.stoppedIds.map((id) => `${shortId(id)}\n`).join(''));
        // Exit 0: what could be stopped was; the user learns where the app may still run.
        for (const member of res.unreachable) {
          deps.stderr.write(
            `budgie: warning: could not reach member ${member}; ${res.app} may still run there: run 'budgie stop ${res.app}' again once it is back\n`,
          );
        }
      }),
  };
}
