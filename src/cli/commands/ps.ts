import type { CommandModule } from 'yargs';
import type { AgentClient } from '../../api/client';
import type { Replica } from '../../gen/budgie/v1/apps';
import { replicasOf, unreachableLine } from '../chirp-listing';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import { formatHealth, formatPorts, formatStatus, replicaJson, shortId } from '../replicas';
import { renderJson, renderTable } from '../table';
import { formatOption } from './image';

interface PsArgs extends GlobalArgs {
  all: boolean;
  app?: string;
  'all-nodes': boolean;
  format: OutputFormat;
}

/** `budgie ps`: the replicas this node knows. */
export function psCommand(deps: CliDeps): CommandModule<GlobalArgs, PsArgs> {
  return {
    command: 'ps',
    describe: 'List replicas',
    builder: (y) =>
      y
        .option('all', {
          alias: 'a',
          type: 'boolean',
          default: false,
          describe: 'Include stopped replicas',
        })
        .option('app', { type: 'string', describe: "Only this app's replicas" })
        .option('all-nodes', {
          type: 'boolean',
          default: false,
          describe: "Every member's replicas too (as 'budgie chirp' finds them)",
        })
        .option('format', formatOption)
        .example('$0 ps', 'Running replicas')
        .example('$0 ps --all --app webapp --format json', "All of webapp's replicas, as JSON")
        .example('$0 ps --all-nodes', 'Running replicas on every member of the cluster'),
    handler: (args) =>
      withClient(args, async (client) => {
        const filter =
          args.app === undefined ? { all: args.all } : { all: args.all, app: args.app };
        const replicas = args['all-nodes']
          ? await clusterReplicas(client, filter, deps)
          : await client.listReplicas(filter);
        const now = (deps.now ?? Date.now)();
        deps.stdout.write(
          args.format === 'json' ? renderJson(replicas.map(replicaJson)) : psTable(replicas, now),
        );
      }),
  };
}

/** Every member's replicas; members that did not answer are named on stderr, not hidden. */
async function clusterReplicas(
  client: AgentClient,
  filter: { all: boolean; app?: string },
  deps: CliDeps,
): Promise<Replica[]> {
  const res = await client.chirp({ timeoutMs: 0, all: filter.all });
  const footer = unreachableLine(res);
  if (footer !== undefined) deps.stderr.write(`budgie: ${footer}\n`);
  return replicasOf(res)
    .map(({ replica }) => replica)
    .filter((r) => filter.app === undefined || r.app === filter.app);
}

function psTable(replicas: Replica[], nowMs: number): string {
  return renderTable(
    ['ID', 'APP', 'IMAGE', 'STATUS', 'HEALTH', 'PORTS', 'NODE'],
    replicas.map((r) => [
      shortId(r.id),
      r.app,
      r.image,
      formatStatus(r, nowMs),
      formatHealth(r),
      formatPorts(r),
      r.node,
    ]),
  );
}
