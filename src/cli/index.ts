import yargs from 'yargs';
import { agentCommand } from './commands/agent';
import { chirpCommand } from './commands/chirp';
import { clusterCommand } from './commands/cluster';
import { imageCommand } from './commands/image';
import { logsCommand } from './commands/logs';
import { nestCommand } from './commands/nest';
import { psCommand } from './commands/ps';
import { runCommand } from './commands/run';
import { scaleCommand } from './commands/scale';
import { rmCommand } from './commands/rm';
import { stopCommand } from './commands/stop';
import { syncCommand } from './commands/sync';
import { validateCommand } from './commands/validate';
import type { CliDeps, GlobalArgs } from './context';
import { describeFailure, UsageError } from './failure';

/**
 * Parses `argv`, runs the command and returns the exit code. The one exit point of the CLI: every
 * failure is printed here, once.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const debug = argv.includes('--debug');
  const parser = yargs(argv)
    .scriptName('budgie')
    .env('BUDGIE')
    .option('socket', {
      type: 'string',
      global: true,
      describe: "The agent's API socket [env BUDGIE_SOCKET, default /run/budgie/budgie.sock]",
    })
    .option('log-level', {
      type: 'string',
      global: true,
      choices: ['error', 'warn', 'info', 'debug'],
      describe: 'Log level (agent)',
    })
    .option('debug', {
      type: 'boolean',
      global: true,
      default: false,
      describe: 'Show stack traces',
    })
    .command(runCommand(deps))
    .command(psCommand(deps))
    .command(stopCommand(deps))
    .command(rmCommand(deps))
    .command(scaleCommand(deps))
    .command(logsCommand(deps))
    .command(validateCommand(deps))
    .command(imageCommand(deps))
    .command(clusterCommand(deps))
    .command(chirpCommand(deps))
    .command(syncCommand(deps))
    .command(agentCommand(deps))
    .command(nestCommand(deps))
    .check((args) => {
      // A flag that takes one value, given twice, is a list to yargs: refused here by name, or
      // it would reach a command as an array where a string is expected.
      const lists = listFlags(parser);
      for (const [key, value] of Object.entries(args)) {
        // Each flag is there under its own name and a camelCase alias: reported by its own.
        if (key === '_' || !Array.isArray(value) || lists.has(key) || /[A-Z]/.test(key)) continue;
        throw new UsageError(
          `--${key}: given ${value.length} times, expected once`,
          "Run 'budgie --help' for usage.",
        );
      }
      return true;
    }, true)
    .completion('completion', 'Print a bash/zsh completion script')
    .demandCommand(1, 'name a command (see budgie --help)')
    .recommendCommands()
    .strict()
    .version(deps.version)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, deps.stdout.columns ?? 80))
    .exitProcess(false)
    .fail((message: string | undefined, err: Error | undefined) => {
      if (err && !message?.startsWith('Not enough non-option arguments')) throw err;
      const usage = commandUsage(parser);
      if (message?.startsWith('Not enough non-option arguments') === true && usage !== undefined) {
        throw new UsageError(
          `missing argument: usage is 'budgie ${usage}'`,
          `Run 'budgie ${usage.split(' <')[0] ?? usage} --help' for details.`,
        );
      }
      throw new UsageError(message ?? 'invalid usage', "Run 'budgie --help' for usage.");
    });

  const output: string[] = [];
  try {
    // yargs prints help and version through this callback; everything else goes through deps.
    await parser.parseAsync(argv, {}, (_err, _argv, text) => {
      if (text !== '') output.push(text);
    });
    flush(output, deps);
    return 0;
  } catch (err) {
    flush(output, deps);
    const failure = describeFailure(err, debug);
    deps.stderr.write(failure.text);
    return failure.code;
  }
}

function flush(output: string[], deps: CliDeps): void {
  for (const text of output) deps.stdout.write(`${text}\n`);
  output.length = 0;
}

export type { CliDeps, GlobalArgs };

/**
 * The usage line of the command being parsed (`image pull <reference>`), so that a missing
 * positional is named; yargs' own message only counts them. Read defensively: it is yargs'
 * internal context, absent from its typings.
 */
function commandUsage(y: unknown): string | undefined {
  const internals = (y as { getInternalMethods?: () => { getContext?: () => unknown } })
    .getInternalMethods;
  const context = internals?.call(y).getContext?.() as { fullCommands?: unknown } | undefined;
  const commands = context?.fullCommands;
  if (!Array.isArray(commands) || commands.length === 0) return undefined;
  return commands
    .map((c) =>
      String(c)
        .replace(/<command>/, '')
        .trim(),
    )
    .join(' ');
}

/**
 * The flags declared to take several values (`array: true`). yargs has getOptions(), which its
 * typings leave out; were it gone in an upgrade, repeating --peer would be refused (unit-tested).
 */
function listFlags(parser: object): Set<string> {
  const getOptions: unknown = Reflect.get(parser, 'getOptions');
  if (typeof getOptions !== 'function') return new Set();
  const options: unknown = getOptions.call(parser);
  const array: unknown =
    typeof options === 'object' && options !== null ? Reflect.get(options, 'array') : undefined;
  return new Set(Array.isArray(array) ? array.filter((a) => typeof a === 'string') : []);
}
