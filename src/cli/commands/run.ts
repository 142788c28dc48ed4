import type { CommandModule } from 'yargs';
import type { AgentClient } from '../../api/client';
import type { App } from '../../bundle';
import { BudgieError, InternalError, UnavailableError } from '../../errors';
import type { RunAppResult } from '../../gen/budgie/v1/apps';
import { withClient } from '../connect';
import type { CliDeps, GlobalArgs } from '../context';
import { LayerProgressView } from '../progress';
import { describeReplica, shortId } from '../replicas';
import { InvalidBundlesError } from './validate';

interface RunArgs extends GlobalArgs {
  file: string;
  detach: boolean;
}

/** `budgie run FILE.bun`: validate locally, ship a local image archive, run, show progress. */
export function runCommand(deps: CliDeps): CommandModule<GlobalArgs, RunArgs> {
  return {
    command: 'run <file>',
    describe: 'Run the app a .bun file describes',
    builder: (y) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'A .bun file' })
        .option('detach', {
          alias: 'd',
          type: 'boolean',
          default: false,
          describe: 'Return once the agent has the app, without waiting for replicas',
        })
        .example('$0 run bundles/hello.bun', 'Run hello and wait until its replicas run')
        .example('$0 run -d webapp.bun', 'Hand webapp to the agent and return at once'),
    handler: async (args) => {
      const app = await loadApp(args.file);
      await withClient(args, async (client) => {
        const sent = await withLocalImage(client, app, deps);
        const result = await followRun(client, sent, args.detach, deps);
        deps.stdout.write(`${summarise(result, args.detach)}\n`);
      });
    },
  };
}

/** The same errors and exit status as `budgie validate`, and no call to the agent. */
async function loadApp(file: string): Promise<App> {
  // Loaded on use: the YAML parser and codecs are most of the CLI's start-up otherwise.
  const { loadBundle } = await import('../../bundle');
  try {
    return await loadBundle(file);
  } catch (err) {
    if (err instanceof BudgieError) throw new InvalidBundlesError(err.message);
    throw err;
  }
}

/**
 * The agent may run on another machine, so a local archive is streamed to it first; the app then
 * names the imported image, which the agent finds in its own store.
 */
async function withLocalImage(client: AgentClient, app: App, deps: CliDeps): Promise<App> {
  if (app.image.kind !== 'archive') return app;
  for await (const ev of client.importImage(app.image.path, deps.signal)) {
    if (ev.event?.$case === 'phase') deps.stderr.write(`${ev.event.value}\n`);
    else if (ev.event?.$case === 'done') {
      return { ...app, image: { kind: 'registry', reference: ev.event.value.name } };
    }
  }
  throw new InternalError(`the agent ended the import of ${app.image.path} without an image`);
}

async function followRun(
  client: AgentClient,
  app: App,
  detach: boolean,
  deps: CliDeps,
): Promise<RunAppResult> {
  const view = new LayerProgressView(deps.stderr);
  const shown = new Map<string, string>();
  try {
    for await (const ev of client.runApp(app, { detach }, deps.signal)) {
      const event = ev.event;
      if (event?.$case === 'layer') view.update(event.value);
      else if (event?.$case === 'phase') view.note(event.value);
      else if (event?.$case === 'replica') {
        const line = describeReplica(event.value);
        if (shown.get(event.value.id) !== line) view.note(line);
        shown.set(event.value.id, line);
      } else if (event?.$case === 'done') return event.value;
    }
  } catch (err) {
    if (deps.signal.aborted) throw interrupted(app.name);
    throw err;
  }
  if (deps.signal.aborted) throw interrupted(app.name);
  throw new InternalError(`the agent ended the run of ${app.name} without a result (see its log)`);
}

function interrupted(name: string): BudgieError {
  return new UnavailableError(
    `interrupted; the agent may still be starting ${name}: see 'budgie ps', or 'budgie stop ${name}'`,
  );
}

/** `webapp: 2 replicas running (3f2a9c1b7d0e, 9bc1d2e3f4a5)`. */
function summarise(result: RunAppResult, detach: boolean): string {
  const n = result.replicaIds.length;
  const count = `${n} replica${n === 1 ? '' : 's'}`;
  if (!result.changed) return `${result.app} is already running as described (${count})`;
  const ids = n > 0 ? ` (${result.replicaIds.map(shortId).join(', ')})` : '';
  if (detach) return `${result.app}: starting in the background${ids}; see 'budgie ps'`;
  return `${result.app}: ${count} running${ids}`;
}
