import type { Argv, CommandModule } from 'yargs';
import type { ClusterClient } from '../../api/cluster-client';
import type { ClusterNode } from '../../gen/budgie/v1/cluster';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import { parseDuration } from '../../bundle/duration';
import { UsageError } from '../failure';
import { shortId } from '../replicas';
import { formatAge, renderJson, renderTable } from '../table';
import { formatOption } from './image';

interface TokenArgs extends GlobalArgs {
  rotate: boolean;
  ttl?: string;
}
interface JoinArgs extends GlobalArgs {
  token: string;
  peer?: string;
}
interface RemoveArgs extends GlobalArgs {
  node: string;
}
interface LeaveArgs extends GlobalArgs {
  force: boolean;
}
interface NodesArgs extends GlobalArgs {
  format: OutputFormat;
}

/** NodeState by number: the generated enum is not imported, so that --help starts fast. */
const STATE_NAMES = ['unknown', 'alive', 'suspect', 'dead'];

function stateName(node: ClusterNode): string {
  return STATE_NAMES[node.state] ?? 'unknown';
}

/** `budgie cluster init|token|join|nodes|leave`: this node's membership, through its agent. */
export function clusterCommand(deps: CliDeps): CommandModule<GlobalArgs, GlobalArgs> {
  const out = (text: string): void => {
    deps.stdout.write(text);
  };
  const err = (text: string): void => {
    deps.stderr.write(text);
  };
  return {
    command: 'cluster <command>',
    describe: 'Create, join and inspect a cluster (init, token, join, nodes, leave, remove)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command<GlobalArgs>({
          command: 'init',
          describe: 'Create a cluster with this node as its first member; prints the join token',
          handler: (args) =>
            withCluster(args, async (client) => {
              const res = await client.init();
              out(
                `Created cluster ${shortId(res.clusterId)}; this node is ${shortId(res.nodeId)} at ${res.address}.\n` +
                  `Join token (keep it secret):\n\n  ${res.token}\n\n` +
                  `On another machine running 'budgie agent':\n\n` +
                  `  budgie cluster join ${res.token} --peer ${res.address}\n\n` +
                  `(--peer may be left out on a LAN where mDNS works.)\n`,
              );
            }),
        })
        .command<TokenArgs>({
          command: 'token',
          describe: 'Print the join token (--rotate replaces it; the old one stops working)',
          builder: (b) =>
            b
              .option('rotate', {
                type: 'boolean',
                default: false,
                describe: 'Make a new token; the old one is refused from now on',
              })
              .option('ttl', {
                type: 'string',
                describe: 'Make a new token that is refused after this long, e.g. 1h or 15m',
              }),
          handler: (args) => {
            const ttlMs = args.ttl === undefined ? 0 : tokenTtl(args.ttl);
            return withCluster(args, async (client) => {
              const res = await client.token(args.rotate, ttlMs);
              out(`${res.token}\n`);
              if (res.expiresUnixMs !== 0) {
                err(`(it expires at ${new Date(res.expiresUnixMs).toISOString()})\n`);
              }
            });
          },
        })
        .command<JoinArgs>({
          command: 'join <token>',
          describe: 'Join the cluster named by a token (via --peer, or a member found by mDNS)',
          builder: (b) =>
            b
              .positional('token', {
                type: 'string',
                demandOption: true,
                describe: "The token from 'budgie cluster init' or 'budgie cluster token'",
              })
              .option('peer', { type: 'string', describe: "A member's peer API, HOST:PORT" })
              .example('$0 cluster join BGT1.… --peer 192.168.1.20:7447', ''),
          handler: (args) => {
            if (args.peer?.trim() === '') {
              throw new UsageError('--peer: expected HOST:PORT, e.g. 192.168.1.20:7447');
            }
            return withCluster(args, async (client) => {
              const res = await client.join(args.token, args.peer ?? '');
              out(
                `Joined cluster ${shortId(res.clusterId)} through ${res.peer}; this node is ${shortId(res.nodeId)}.\n`,
              );
            });
          },
        })
        .command<NodesArgs>({
          command: 'nodes',
          describe: 'List the members: NODE ID, NAME, ADDRESS, STATE, LAST SEEN',
          builder: (b) => b.option('format', formatOption),
          handler: (args) =>
            withCluster(args, async (client) => {
              const res = await client.nodes();
              const now = (deps.now ?? Date.now)();
              out(
                args.format === 'json'
                  ? renderJson(res.nodes.map((n) => nodeJson(n, res.clusterId)))
                  : nodesTable(res.nodes, now),
              );
            }),
        })
        .command<LeaveArgs>({
          command: 'leave',
          describe: 'Leave the cluster: tell the members, forget its certificates and keys',
          builder: (b) =>
            b.option('force', {
              type: 'boolean',
              default: false,
              describe: 'Leave even from the node that holds the CA key (no joins afterwards)',
            }),
          handler: (args) =>
            withCluster(args, async (client) => {
              const told = await client.leave(args.force);
              out(
                told === 0
                  ? 'Left the cluster (no member could be told: they learn it from each other, or refuse this node once they do).\n'
                  : `Left the cluster (${told} member${told === 1 ? '' : 's'} told: they no longer trust this node).\n`,
              );
            }),
        })
        .command<RemoveArgs>({
          command: 'remove <node>',
          describe:
            'On the node that holds the CA key: remove another member for good (a dead or stolen machine)',
          builder: (b) =>
            b.positional('node', {
              type: 'string',
              demandOption: true,
              describe:
                "The member's node id (or a unique prefix) or name, as 'cluster nodes' lists",
            }),
          handler: (args) =>
            withCluster(args, async (client) => {
              const nodeId = await client.remove(args.node);
              out(
                `Removed ${shortId(nodeId)}: every member refuses its certificate once it hears of it (at its next heartbeat).\n`,
              );
            }),
        })
        .demandCommand(1, 'name a cluster command: init, token, join, nodes, leave or remove'),
    handler: () => undefined,
  };
}

async function withCluster(
  args: GlobalArgs,
  work: (client: ClusterClient) => Promise<void>,
): Promise<void> {
  // Loaded on use, as withClient does: commands that never reach the agent start without gRPC.
  const { ClusterClient: Client } = await import('../../api/cluster-client');
  const { DEFAULT_SOCKET } = await import('../../api/client');
  const client: ClusterClient = new Client(args.socket ?? DEFAULT_SOCKET);
  try {
    await work(client);
  } finally {
    client.close();
  }
}

function nodesTable(nodes: ClusterNode[], nowMs: number): string {
  return renderTable(
    ['NODE ID', 'NAME', 'ADDRESS', 'STATE', 'LAST SEEN', 'CONTAINERS'],
    nodes.map((n) => [
      n.self ? `${shortId(n.nodeId)} (self)` : shortId(n.nodeId),
      n.name,
      n.address,
      stateName(n),
      n.self ? 'now' : n.lastSeenUnixMs === 0 ? 'never' : formatAge(n.lastSeenUnixMs, nowMs),
      n.containers === undefined ? '-' : String(n.containers),
    ]),
  );
}

function nodeJson(n: ClusterNode, clusterId: string) {
  return {
    nodeId: n.nodeId,
    name: n.name,
    address: n.address,
    state: stateName(n),
    lastSeenUnixMs: n.lastSeenUnixMs === 0 ? null : n.lastSeenUnixMs,
    self: n.self,
    containers: n.containers ?? null,
    clusterId,
  };
}

/** `--ttl`: how long a new token works, 1 minute to 30 days. */
function tokenTtl(text: string): number {
  const parsed = parseDuration(text);
  if ('reason' in parsed) throw new UsageError(`--ttl "${text}": ${parsed.reason}`);
  if (parsed.ms < 60_000 || parsed.ms > 30 * 24 * 3600_000) {
    throw new UsageError(`--ttl "${text}": expected between 1m and 720h`);
  }
  return parsed.ms;
}
