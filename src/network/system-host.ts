import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FailedPreconditionError, messageOf, PermissionDeniedError } from '../errors';
import { hasCode } from '../fs';
import type { NetnsHost, NetworkHost, PluginCall, PluginExit } from './host';

const run = promisify(execFile);

/** Where `ip netns` keeps its bind mounts. */
const NETNS_DIR = '/var/run/netns';

/** The real host: plugin processes, `ip netns`, /proc/net/route. */
export function systemHost(): NetworkHost {
  return {
    runPlugin,
    isExecutable: async (path) => {
      try {
        await access(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    isPrivileged: () => process.getuid?.() === 0,
    readRoutes: () => readFile('/proc/net/route', 'utf8'),
    netns: ipNetns(),
  };
}

function runPlugin(path: string, call: PluginCall, signal?: AbortSignal): Promise<PluginExit> {
  return new Promise((resolve, reject) => {
    // PATH stays: the bridge plugin runs iptables.
    const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...call.env };
    const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)),
    );
    child.stdin.on('error', () => undefined); // a plugin that exits without reading stdin
    child.on('error', reject);
    child.on('close', (exitCode) => {
      resolve({ exitCode, stdout, stderr });
    });
    child.stdin.end(call.stdin);
  });
}

function ipNetns(): NetnsHost {
  const ip = async (...args: string[]): Promise<void> => {
    try {
      await run('ip', ['netns', ...args]);
    } catch (err) {
      const stderr =
        typeof err === 'object' && err !== null && 'stderr' in err ? err.stderr : undefined;
      const detail = (typeof stderr === 'string' && stderr.trim()) || messageOf(err);
      const message = `ip netns ${args.join(' ')} failed: ${detail.replace(/\s+/g, ' ')}`;
      if (/not permitted|permission denied/i.test(detail)) throw new PermissionDeniedError(message);
      throw new FailedPreconditionError(message, { cause: err });
    }
  };
  const list = async (): Promise<string[]> => {
    try {
      return await readdir(NETNS_DIR);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return [];
      throw err;
    }
  };
  return {
    dir: NETNS_DIR,
    add: (name) => ip('add', name),
    remove: async (name) => {
      if ((await list()).includes(name)) await ip('delete', name);
    },
    list,
  };
}
