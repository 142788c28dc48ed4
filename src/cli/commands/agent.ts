import type { CommandModule } from 'yargs';
import { resolveAgentConfig } from '../../config/agent-config';
import type { CliDeps, GlobalArgs } from '../context';

interface AgentArgs extends GlobalArgs {
  containerd?: string;
  namespace?: string;
  'state-dir'?: string;
  'log-dir'?: string;
  'node-name'?: string;
  bridge?: string;
  subnet?: string;
  'publish-address'?: string;
  config?: string;
}

/** `budgie agent`: parses flags into an AgentConfig; the daemon itself lives in src/agent. */
export function agentCommand(deps: CliDeps): CommandModule<GlobalArgs, AgentArgs> {
  return {
    command: 'agent',
    describe: 'Run the Budgie agent (the daemon on every machine)',
    builder: (y) =>
      y
        .option('containerd', {
          type: 'string',
          describe: "containerd's socket [default: /run/containerd/containerd.sock]",
        })
        .option('namespace', { type: 'string', describe: 'containerd namespace [default: budgie]' })
        .option('state-dir', {
          type: 'string',
          describe: 'State directory [default: /var/lib/budgie]',
        })
        .option('log-dir', { type: 'string', describe: 'Log directory [default: /var/log/budgie]' })
        .option('node-name', { type: 'string', describe: 'Name of this node [default: hostname]' })
        .option('bridge', {
          type: 'string',
          describe: 'Bridge for replica networks [default: budgie0]',
        })
        .option('subnet', {
          type: 'string',
          describe: 'IPv4 CIDR for replica addresses [default: auto, a free /16 from 10.213.0.0]',
        })
        .option('publish-address', {
          type: 'string',
          describe: 'Address published ports listen on [default: 0.0.0.0]',
        })
        .option('config', {
          type: 'string',
          describe: 'Config file (YAML) [default: /etc/budgie/config.yaml if present]',
        })
        .example('$0 agent', 'run with the defaults (as root)')
        .example('$0 agent --containerd /tmp/c/containerd.sock --state-dir /tmp/b', ''),
    handler: async (args) => {
      const config = await resolveAgentConfig(
        {
          containerd: args.containerd,
          namespace: args.namespace,
          socket: args.socket,
          stateDir: args['state-dir'],
          logDir: args['log-dir'],
          nodeName: args['node-name'],
          logLevel: args['log-level'],
          bridge: args.bridge,
          subnet: args.subnet,
          publishAddress: args['publish-address'],
        },
        args.config,
      );
      await deps.runAgent(config, deps.signal);
    },
  };
}
