import type { NetworkHost, PluginCall, PluginExit } from '../../../src/network';

/** One recorded plugin call: which plugin, the CNI_* variables and the parsed stdin. */
export interface SeenCall {
  plugin: string;
  env: Record<string, string>;
  config: Record<string, unknown>;
}

export type PluginBehaviour = (
  call: SeenCall,
  signal?: AbortSignal,
) => PluginExit | Promise<PluginExit>;

export const ok = (result: unknown): PluginExit => ({
  exitCode: 0,
  stdout: JSON.stringify(result),
  stderr: '',
});
export const cniFailure = (code: number, msg: string): PluginExit => ({
  exitCode: 1,
  stdout: JSON.stringify({ code, msg }),
  stderr: '',
});

const ROUTE_HEADER =
  'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT';

/**
 * A host in memory: plugins are functions, namespaces a set, routes a /proc/net/route text.
 * The default plugins behave like loopback, bridge and host-local: bridge hands out .2, .3, …
 * of the configured subnet per container id and releases them on DEL.
 */
export class FakeHost implements NetworkHost {
  privileged = true;
  routes = `${ROUTE_HEADER}\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
  installed = new Set(['/usr/lib/cni/loopback', '/usr/lib/cni/bridge', '/usr/lib/cni/host-local']);
  supportedVersions = ['0.3.1', '0.4.0', '1.0.0'];
  readonly namespaces = new Set<string>();
  readonly calls: SeenCall[] = [];
  readonly leases = new Map<string, string>();
  readonly plugins = new Map<string, PluginBehaviour>([
    ['loopback', (call) => this.loopback(call)],
    ['bridge', (call) => this.bridge(call)],
  ]);

  readonly netns = {
    dir: '/var/run/netns',
    add: (name: string): Promise<void> => {
      if (this.namespaces.has(name)) return Promise.reject(new Error(`netns ${name} exists`));
      this.namespaces.add(name);
      return Promise.resolve();
    },
    remove: (name: string): Promise<void> => {
      this.namespaces.delete(name);
      return Promise.resolve();
    },
    list: (): Promise<string[]> => Promise.resolve([...this.namespaces]),
  };

  async runPlugin(path: string, call: PluginCall, signal?: AbortSignal): Promise<PluginExit> {
    signal?.throwIfAborted();
    const plugin = path.split('/').pop() ?? '';
    const config = JSON.parse(call.stdin) as Record<string, unknown>;
    const seen = { plugin, env: call.env, config };
    if (call.env['CNI_COMMAND'] === 'VERSION') {
      return ok({ cniVersion: '1.0.0', supportedVersions: this.supportedVersions });
    }
    this.calls.push(seen);
    const behaviour = this.plugins.get(plugin);
    if (behaviour === undefined) throw new Error(`no fake plugin ${plugin}`);
    return behaviour(seen, signal);
  }

  isExecutable(path: string): Promise<boolean> {
    return Promise.resolve(this.installed.has(path));
  }

  isPrivileged(): boolean {
    return this.privileged;
  }

  readRoutes(): Promise<string> {
    return Promise.resolve(this.routes);
  }

  /** Adds a route line for `iface` to the destination and mask given as dotted quads. */
  addRoute(iface: string, destination: string, mask: string): void {
    this.routes += `${iface}\t${procHex(destination)}\t00000000\t0001\t0\t0\t0\t${procHex(mask)}\t0\t0\t0\n`;
  }

  /** The commands seen, as "plugin COMMAND ifname". */
  commands(): string[] {
    return this.calls.map(
      (c) => `${c.plugin} ${c.env['CNI_COMMAND'] ?? ''} ${c.env['CNI_IFNAME'] ?? ''}`,
    );
  }

  private loopback(call: SeenCall): PluginExit {
    if (call.env['CNI_COMMAND'] === 'DEL') return ok({});
    return ok({
      cniVersion: call.config['cniVersion'],
      interfaces: [{ name: 'lo', sandbox: call.env['CNI_NETNS'] }],
      ips: [{ interface: 0, address: '127.0.0.1/8' }],
    });
  }

  private bridge(call: SeenCall): PluginExit {
    const id = call.env['CNI_CONTAINERID'] ?? '';
    if (call.env['CNI_COMMAND'] === 'DEL') {
      this.leases.delete(id);
      return ok({});
    }
    const ipam = call.config['ipam'] as { ranges: [[{ subnet: string }]] };
    const [a, b, c] = ipam.ranges[0][0].subnet.split('.');
    const address = `${a}.${b}.${c}.${this.leases.size + 2}`;
    this.leases.set(id, address);
    return ok({
      cniVersion: call.config['cniVersion'],
      interfaces: [
        { name: String(call.config['bridge']), mac: '00:00:00:00:00:01' },
        { name: 'veth1', mac: '00:00:00:00:00:02' },
        { name: call.env['CNI_IFNAME'], mac: '00:00:00:00:00:03', sandbox: call.env['CNI_NETNS'] },
      ],
      ips: [{ interface: 2, address: `${address}/16`, gateway: `${a}.${b}.${c}.1` }],
    });
  }
}

/** A dotted quad as /proc/net/route writes it (little-endian hex). */
export function procHex(dotted: string): string {
  return dotted
    .split('.')
    .reverse()
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .join('');
}
