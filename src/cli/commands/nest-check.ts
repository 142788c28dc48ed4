import type { CommandModule } from 'yargs';
import { parseHostPort } from '../../host-port';
import { resolveAgentConfig } from '../../config/agent-config';
import { FailedPreconditionError } from '../../errors';
import { runChecks } from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { checksJson, renderChecks } from './nest-output';

export interface CheckArgs extends GlobalArgs {
  json: boolean;
  containerd?: string;
  config?: string;
  'state-dir'?: string;
}

/** The checks' report and what is missing, for `nest check` and the menu's System check. */
export async function systemCheck(
  deps: CliDeps,
  args: Omit<CheckArgs, 'debug'>,
): Promise<{ text: string; missing: string[] }> {
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
  return {
    text: args.json ? checksJson(results) : renderChecks(results),
    missing: results.filter((r) => r.status === 'missing').map((r) => r.check),
  };
}

export function checkCommand(deps: CliDeps): CommandModule<GlobalArgs, CheckArgs> {
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
      const { text, missing } = await systemCheck(deps, args);
      deps.stdout.write(text);
      if (missing.length > 0) {
        throw new FailedPreconditionError(`nest check: missing: ${missing.join(', ')}`);
      }
    },
  };
}
