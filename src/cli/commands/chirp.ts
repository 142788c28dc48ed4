import { posix } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  chirpJson,
  chirpTimeout,
  replicaCounts,
  replicasOf,
  unreachableLine,
} from '../chirp-listing';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import type { AgentClient } from '../../api/client';
import { InternalError } from '../../errors';
import type { VolumeMapping } from '../../gen/budgie/v1/chirp';
import { UsageError } from '../failure';
import { formatHealth, shortId } from '../replicas';
import { renderJson, renderTable } from '../table';
import { formatOption } from './image';

interface ChirpArgs extends GlobalArgs {
  target?: string;
  timeout?: string;
  'volume-map'?: string[];
  format: OutputFormat;
}

/** `budgie chirp`: the replicas of the whole cluster, from any member. */
export function chirpCommand(deps: CliDeps): CommandModule<GlobalArgs, ChirpArgs> {
  return {
    command: 'chirp [target]',
    describe: 'List the containers of every member, or join one app as a replica on this machine',
    builder: (y) =>
      y
        .positional('target', {
          type: 'string',
          describe: 'A replica ID (or prefix) or app, as listed, to join on this machine',
        })
        .option('timeout', {
          type: 'string',
          describe: 'How long to wait for members, e.g. 500ms or 2s [default: 1s]',
        })
        .option('volume-map', {
          type: 'string',
          array: true,
          describe:
            'With a target: where an ro volume of the app comes from on this machine, TARGET=HOSTPATH (repeat per ro volume)',
        })
        .option('format', formatOption)
        .example('$0 chirp', 'Every replica in the cluster, with the node that runs it')
        .example('$0 chirp --timeout 3s --format json', 'The same as JSON, waiting longer')
        .example('$0 chirp 3f2a9c1b7d0e', "Run one more replica of that replica's app here")
        .example(
          '$0 chirp web --volume-map /etc/web=/srv/web-config',
          'Join web, mounting /srv/web-config of this machine at its ro volume /etc/web',
        ),
    handler: (args) => {
      const target = args.target;
      const volumeMap = volumeMapArgs(args['volume-map'] ?? []);
      if (target !== undefined) {
        return withClient(args, (client) => join(client, target, volumeMap, deps));
      }
      if (volumeMap.length > 0) {
        throw new UsageError('--volume-map: only with a target to join (budgie chirp ID ...)');
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

/**
 * Progress lines on stderr (fetching the app, blobs n/m, starting), then the new replica's full
 * ID alone on stdout, so that scripts can capture it.
 */
async function join(
  client: AgentClient,
  target: string,
  volumeMap: VolumeMapping[],
  deps: CliDeps,
): Promise<void> {
  let lastBlobs = '';
  for await (const res of client.joinApp(target, volumeMap, deps.signal)) {
    const event = res.event;
    if (event === undefined) continue;
    if (event.$case === 'phase') deps.stderr.write(`${event.value}\n`);
    else if (event.$case === 'blobs') {
      const line = `blobs ${event.value.done}/${event.value.total}`;
      if (line !== lastBlobs) deps.stderr.write(`${line}\n`);
      lastBlobs = line;
    } else {
      const { app, replicaId, peerNode } = event.value;
      deps.stderr.write(`${app}: joined from ${peerNode}, replica ${shortId(replicaId)} running\n`);
      deps.stdout.write(`${replicaId}\n`);
      return;
    }
  }
  throw new InternalError(`the agent ended the join of ${target} without a result (see its log)`);
}

/** `--volume-map TARGET=HOSTPATH` values, both absolute. */
function volumeMapArgs(values: readonly string[]): VolumeMapping[] {
  return values.map((value) => {
    const at = value.indexOf('=');
    const target = value.slice(0, at);
    const source = value.slice(at + 1);
    if (at < 0 || !posix.isAbsolute(target) || !posix.isAbsolute(source)) {
      throw new UsageError(
        `--volume-map ${value}: expected TARGET=HOSTPATH, both absolute (e.g. /etc/web=/srv/web-config)`,
      );
    }
    return { target, source };
  });
}
