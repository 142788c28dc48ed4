import type { Argv, CommandModule } from 'yargs';
import type { SyncStatusClient } from '../../api/sync-client';
import type { VolumePeerSync, VolumeSyncStatus } from '../../gen/budgie/v1/sync';
import type { CliDeps, GlobalArgs, OutputFormat } from '../context';
import { shortId } from '../replicas';
import { formatAge, formatSize, renderJson, renderTable } from '../table';
import { formatOption } from './image';

interface StatusArgs extends GlobalArgs {
  app?: string;
  format: OutputFormat;
}
interface ConflictsArgs extends GlobalArgs {
  app: string;
  format: OutputFormat;
}

/** `budgie sync status|conflicts`: volume sync as this node sees it. */
export function syncCommand(deps: CliDeps): CommandModule<GlobalArgs, GlobalArgs> {
  const out = (text: string): void => {
    deps.stdout.write(text);
  };
  return {
    command: 'sync <command>',
    describe: 'Volume sync between the nodes that run an app (status, conflicts)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command<StatusArgs>({
          command: 'status [app]',
          describe: 'Per app, volume and member: in sync or behind, conflicts, last synced',
          builder: (b) =>
            b
              .positional('app', { type: 'string', describe: 'Only this app' })
              .option('format', formatOption),
          handler: (args) =>
            withSync(args, async (client) => {
              const now = deps.now ?? Date.now;
              let { volumes } = await client.status(args.app ?? '');
              if (args.format === 'json') {
                out(renderJson(volumes));
                return;
              }
              // On a terminal, a round in progress is followed: the table is redrawn in place,
              // with its bars, until no round is left (or Ctrl-C).
              let drawn = 0;
              for (;;) {
                const table = statusTable(volumes, now());
                out((drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') + table);
                drawn = table.split('\n').length - 1;
                if (!deps.stdout.isTTY || !transferring(volumes)) return;
                await sleep(FOLLOW_MS, deps.signal);
                if (deps.signal.aborted) return;
                ({ volumes } = await client.status(args.app ?? ''));
              }
            }),
        })
        .command<ConflictsArgs>({
          command: 'conflicts <app>',
          describe: "The conflict copies in an app's volumes, with the node each came from",
          builder: (b) =>
            b
              .positional('app', { type: 'string', demandOption: true, describe: 'The app' })
              .option('format', formatOption),
          handler: (args) =>
            withSync(args, async (client) => {
              const { volumes } = await client.status(args.app);
              const rows = volumes.flatMap((v) =>
                v.conflicts.map((c) => ({ volume: v.target, dir: v.dir, ...c })),
              );
              out(
                args.format === 'json'
                  ? renderJson(rows)
                  : rows.length === 0
                    ? `No conflict copies in ${args.app}'s volumes on this node.\n`
                    : renderTable(
                        ['VOLUME', 'COPY', 'FROM NODE'],
                        rows.map((r) => [
                          r.volume,
                          r.path,
                          r.nodeName === ''
                            ? r.nodeId === ''
                              ? '?'
                              : shortId(r.nodeId)
                            : r.nodeName,
                        ]),
                      ) +
                      'Keep the version you want: delete or rename the copies (that change syncs too).\n',
              );
            }),
        })
        .demandCommand(1, 'name a sync command: status or conflicts'),
    handler: () => undefined,
  };
}

function statusTable(volumes: VolumeSyncStatus[], nowMs: number): string {
  if (volumes.length === 0) return 'No rw volumes are synced on this node.\n';
  const rows = volumes.flatMap((v) => {
    const base = [v.app, v.target, `${v.files} files, ${formatSize(v.bytes)}`];
    const conflicts = String(v.conflicts.length);
    if (v.peers.length === 0) return [[...base, '-', 'no member runs it', '-', conflicts, '-']];
    return v.peers.map((p) => [
      ...base,
      p.nodeName === '' ? shortId(p.nodeId) : p.nodeName,
      p.error !== '' ? `error: ${p.error}` : p.inSync ? 'in sync' : 'behind',
      behindText(p),
      conflicts,
      p.syncedAtUnixMs === 0 ? 'never' : formatAge(p.syncedAtUnixMs, nowMs),
    ]);
  });
  return renderTable(
    ['APP', 'VOLUME', 'HERE', 'MEMBER', 'STATE', 'BEHIND', 'CONFLICTS', 'LAST SYNCED'],
    rows,
  );
}

/** How often a followed transfer is redrawn. */
const FOLLOW_MS = 500;
const BAR_WIDTH = 20;

function transferring(volumes: VolumeSyncStatus[]): boolean {
  return volumes.some((v) => v.peers.some((p) => p.roundFiles > 0));
}

/** What is left to move from a member: the round in progress as a bar, or changes not seen. */
function behindText(p: VolumePeerSync): string {
  if (p.roundFiles > 0) {
    const ratio = p.roundBytes > 0 ? Math.min(1, p.roundDoneBytes / p.roundBytes) : 0;
    const filled = Math.round(ratio * BAR_WIDTH);
    return (
      `[${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ` +
      `${p.roundDoneFiles}/${p.roundFiles} files, ` +
      `${formatSize(p.roundDoneBytes)}/${formatSize(p.roundBytes)}`
    );
  }
  return p.inSync ? '-' : `${p.behind} changes`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

async function withSync(
  args: GlobalArgs,
  work: (client: SyncStatusClient) => Promise<void>,
): Promise<void> {
  // Loaded on use, as withClient does: commands that never reach the agent start without gRPC.
  const { SyncStatusClient: Client } = await import('../../api/sync-client');
  const { DEFAULT_SOCKET } = await import('../../api/client');
  const client: SyncStatusClient = new Client(args.socket ?? DEFAULT_SOCKET);
  try {
    await work(client);
  } finally {
    client.close();
  }
}
