import type { Argv, CommandModule } from 'yargs';
import { parseHostPort } from '../../cluster/address';
import { resolveAgentConfig } from '../../config/agent-config';
import { FailedPreconditionError } from '../../errors';
import { findLesson, LESSONS, runChecks } from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { UsageError } from '../failure';
import { checksJson, renderChecks, renderLesson, renderTopics } from './nest-output';

interface CheckArgs extends GlobalArgs {
  json: boolean;
  containerd?: string;
  config?: string;
  'state-dir'?: string;
}

interface LearnArgs extends GlobalArgs {
  topic?: string;
}

const SUBCOMMANDS = [
  'budgie nest check [--json]   check this machine for what Budgie needs',
  'budgie nest learn [TOPIC]    short lessons with commands to copy',
].join('\n  ');

/** `budgie nest`: the scriptable parts of the setup wizard; the interactive menu comes later. */
export function nestCommand(deps: CliDeps): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'nest',
    describe: 'Set up this machine: system check, lessons',
    builder: (y: Argv<GlobalArgs>) =>
      y.command<CheckArgs>(checkCommand(deps)).command<LearnArgs>(learnCommand(deps)),
    handler: () => {
      // Scripts must not hang on a menu; and the menu itself is not built yet on a terminal.
      const why = deps.stdout.isTTY
        ? 'the interactive menu is not built yet; name a subcommand'
        : 'name a subcommand';
      throw new UsageError(`nest: ${why}`, `Usage:\n  ${SUBCOMMANDS}`);
    },
  };
}

function checkCommand(deps: CliDeps): CommandModule<GlobalArgs, CheckArgs> {
  return {
    command: 'check',
    describe:
      'Check this machine for what Budgie needs (exit 1 when something required is missing)',
    builder: (y) =>
      y
        .option('json', { type: 'boolean', default: false, describe: 'Print a JSON array' })
        .option('containerd', {
          type: 'string',
          describe: "containerd's socket [default: /run/containerd/containerd.sock]",
        })
        .option('state-dir', {
          type: 'string',
          describe: 'State directory [default: /var/lib/budgie]',
        })
        .option('config', {
          type: 'string',
          describe: 'Config file (YAML) [default: /etc/budgie/config.yaml if present]',
        })
        .example('$0 nest check', 'check with the agent’s settings')
        .example('$0 nest check --json --containerd /tmp/c/containerd.sock', ''),
    handler: async (args) => {
      // The agent's own resolution, so the check sees exactly what `budgie agent` would use.
      const config = await resolveAgentConfig(
        { containerd: args.containerd, socket: args.socket, stateDir: args['state-dir'] },
        args.config,
      );
      const probes = await deps.systemProbes();
      const results = await runChecks(probes, {
        containerdSocket: config.containerd,
        agentSocket: config.socket,
        stateDir: config.stateDir,
        peerPort: parseHostPort(config.cluster.listen, '--listen').port,
      });
      deps.stdout.write(args.json ? checksJson(results) : renderChecks(results));
      const missing = results.filter((r) => r.status === 'missing').map((r) => r.check);
      if (missing.length > 0) {
        throw new FailedPreconditionError(`nest check: missing: ${missing.join(', ')}`);
      }
    },
  };
}

function learnCommand(deps: CliDeps): CommandModule<GlobalArgs, LearnArgs> {
  return {
    command: 'learn [topic]',
    describe: 'Short lessons with commands to copy (lists the topics when none is named)',
    builder: (y) => y.positional('topic', { type: 'string', describe: 'A lesson topic' }),
    handler: (args) => {
      if (args.topic === undefined) {
        deps.stdout.write(renderTopics(LESSONS));
        return;
      }
      const lesson = findLesson(args.topic);
      if (lesson === undefined) {
        const topics = LESSONS.map((l) => l.topic).join(', ');
        throw new UsageError(`topic: expected one of ${topics}, got "${args.topic}"`);
      }
      deps.stdout.write(renderLesson(lesson));
    },
  };
}
