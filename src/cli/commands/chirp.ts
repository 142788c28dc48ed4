import type { CommandModule } from 'yargs';
import {
  chirpJson,
  chirpTimeout,
  replicaCounts,
  replicasOf,
  unreachableLine,
} from '../cluster-replicas';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import { NotBuiltError } from '../failure';
import { formatHealth, shortId } from '../replicas';
import { renderJson, renderTable } from '../table';
import { formatOption } from './image';

interface ChirpArgs extends GlobalArgs {
  target?: string;
  timeout?: string;
  format: OutputFormat;
}

/** `budgie chirp`: the replicas of the whole cluster, from any member. */
export function chirpCommand(deps: CliDeps): CommandModule<GlobalArgs, ChirpArgs> {
  return {
    command: 'chirp [target]',
    describe: 'List the containers of every member (joining one as a replica is not built yet)',
    builder: (y) =>
      y
        .positional('target', {
          type: 'string',
          describe: 'A replica ID or app to join on this machine (not built yet)',
        })
        .option('timeout', {
          type: 'string',
          describe: 'How long to wait for members, e.g. 500ms or 2s [default: 1s]',
        })
        .option('format', formatOption)
        .example('$0 chirp', 'Every replica in the cluster, with the node that runs it')
        .example('$0 chirp --timeout 3s --format json', 'The same as JSON, waiting longer'),
    handler: (args) => {
      if (args.target !== undefined) {
        throw new NotBuiltError(
          `'budgie chirp ${args.target}' (joining a replica on this machine) is not built yet in this version of Budgie; 'budgie chirp' lists the cluster's replicas`,
        );
      }
      const timeoutMs = chirpTimeout(args.timeout);
      return withClient(args, async (client) => {
        const res = await client.chirp({ timeoutMs, all: false });
        if (args.format === 'json') {
          deps.stdout.write(renderJson(chirpJson(res)));
          return;
        }
        const counts = replicaCounts(res);
        deps.stdout.write(
          renderTable(
            ['ID', 'APP', 'IMAGE', 'NODE', 'ADDRESS', 'HEALTH', 'REPLICAS'],
            replicasOf(res).map(({ placed, replica }) => [
              shortId(replica.id),
              replica.app,
              replica.image,
              replica.node,
              placed.addresses.join(', ') || '-',
              formatHealth(replica),
              counts.get(replica.app) ?? '',
            ]),
          ),
        );
        const footer = unreachableLine(res);
        if (footer !== undefined) deps.stdout.write(`${footer}\n`);
      });
    },
  };
}
