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
  'max-import'?: string;
  listen?: string;
  advertise?: string;
  peer?: string[];
  mdns?: string;
  heartbeat?: string;
  'suspect-after'?: string;
  'dead-after'?: string;
  'forget-after'?: string;
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
        .option('max-import', {
          type: 'string',
          describe: 'The largest image archive budgie image import takes [default: 32GiB]',
        })
        .option('listen', {
          type: 'string',
          describe: 'HOST:PORT of the peer API (mutual TLS) [default: 0.0.0.0:7447]',
        })
        .option('advertise', {
          type: 'string',
          describe: 'Address in mDNS adverts and certificates [default: first non-loopback IPv4]',
        })
        .option('peer', {
          type: 'string',
          array: true,
          describe: 'A member to dial, HOST:PORT (repeatable), where multicast is blocked',
        })
        .option('mdns', { type: 'string', describe: 'mDNS discovery, on or off [default: on]' })
        .option('heartbeat', {
          type: 'string',
          describe: 'How often members are asked Hello [default: 1s]',
        })
        .option('suspect-after', {
          type: 'string',
          describe: 'Silence after which a member is suspect [default: 3s]',
        })
        .option('dead-after', {
          type: 'string',
          describe: 'Silence after which a member is dead [default: 10s]',
        })
        .option('forget-after', {
          type: 'string',
          describe: 'Silence after which a dead member is forgotten [default: 24h]',
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
          maxImport: args['max-import'],
          listen: args.listen,
          advertise: args.advertise,
          peers: args.peer,
          mdns: args.mdns,
          heartbeat: args.heartbeat,
          suspectAfter: args['suspect-after'],
          deadAfter: args['dead-after'],
          forgetAfter: args['forget-after'],
        },
        args.config,
      );
      try {
        await deps.runAgent(config, deps.signal);
      } catch (err) {
        // Stopped (SIGTERM, Ctrl-C) before it was up, e.g. while it waited for containerd: a
        // stop as asked, not a failure.
        if (deps.signal.aborted && isAbort(err, deps.signal)) return;
        throw err;
      }
    },
  };
}

/** Whether `err` is the abort of `signal` (its reason, or the AbortError of a call it aborted). */
function isAbort(err: unknown, signal: AbortSignal): boolean {
  // By name: Node's AbortError is a DOMException, not always an Error of this realm.
  return (
    err === signal.reason ||
    (typeof err === 'object' && err !== null && 'name' in err && err.name === 'AbortError')
  );
}
