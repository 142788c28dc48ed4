import type { CommandModule } from 'yargs';
import type { AgentClient } from '../../api/client';
import { pointInTime, wholeNumber } from '../args';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';
import { LogLineWriter } from '../log-lines';

interface LogsArgs extends GlobalArgs {
  target: string;
  follow: boolean;
  tail?: string;
  since?: string;
}

/** `budgie logs ID|APP`: container output on stdout, each line prefixed by its replica for apps. */
export function logsCommand(deps: CliDeps): CommandModule<GlobalArgs, LogsArgs> {
  return {
    command: 'logs <target>',
    describe: "Show a replica's or an app's logs",
    builder: (y) =>
      y
        .positional('target', {
          type: 'string',
          demandOption: true,
          describe: 'A replica ID (or prefix) or an app name',
        })
        .option('follow', {
          alias: 'f',
          type: 'boolean',
          default: false,
          describe: 'Keep printing new output until Ctrl-C',
        })
        .option('tail', {
          type: 'string',
          describe: 'Start with the last N lines of each log [default: all]',
        })
        .option('since', {
          type: 'string',
          describe:
            'Only output written since a time: 10m, 1h30m (ago), 2026-11-29T10:00:00Z or unix seconds',
        })
        .example('$0 logs -f webapp', 'Follow every replica of webapp, lines prefixed by replica')
        .example('$0 logs --tail 20 3f2a9c1b7d0e', 'The last 20 lines of one replica')
        .example('$0 logs --since 10m webapp', 'What webapp wrote in the last ten minutes'),
    handler: (args) => {
      const tail =
        args.tail === undefined
          ? 0
          : wholeNumber(args.tail, '--tail', 'budgie logs webapp --tail 100');
      const sinceUnixMs =
        args.since === undefined ? 0 : pointInTime(args.since, '--since', Date.now());
      return withClient(args, async (client) => {
        const out = new LogLineWriter(deps.stdout, await severalReplicas(client, args.target));
        try {
          const request = { target: args.target, follow: args.follow, tail, sinceUnixMs };
          for await (const chunk of client.logs(request, deps.signal)) {
            out.write(chunk.replicaId, chunk.data);
          }
        } catch (err) {
          // Ctrl-C is how one stops following: not a failure.
          if (!deps.signal.aborted) throw err;
        } finally {
          out.end();
        }
      });
    },
  };
}

/**
 * Whether the target names an app with several replicas, here or (in a cluster, whose members'
 * replicas of the app are in its logs too) across the members, so that lines are prefixed from
 * the first one; a replica that appears later switches prefixes on then (LogLineWriter).
 */
async function severalReplicas(client: AgentClient, target: string): Promise<boolean> {
  const replicas = await client.listReplicas({ all: true, app: target });
  if (replicas.length !== 1) return replicas.length > 1;
  // Only for the prefixes: an agent that cannot chirp still streams its logs.
  const cluster = await client.chirp({ timeoutMs: 0, all: true }).catch(() => undefined);
  return (cluster?.replicas.filter((r) => r.replica?.app === target).length ?? 0) > 1;
}
