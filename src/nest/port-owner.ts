import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { PortState } from './probes';

/** /proc/net/tcp's state column for a listening socket. */
const TCP_LISTEN = '0A';

/**
 * Binds the port on every address (as the default `--listen 0.0.0.0:PORT` does); when that fails,
 * names the listener from /proc (only root sees every process's sockets).
 */
export async function portState(port: number): Promise<PortState> {
  const code = await tryBind(port);
  if (code === undefined) return { state: 'free' };
  const inodes = await listeningInodes(port);
  const owner = await ownerOf(inodes);
  const described = owner ?? (code === 'EADDRINUSE' ? undefined : `unknown (${code})`);
  return { state: 'in-use', owner: described, byBudgie: owner?.includes('budgie') === true };
}

function tryBind(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? 'error');
    });
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      server.close(() => {
        resolve(undefined);
      });
    });
  });
}

async function listeningInodes(port: number): Promise<Set<string>> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1] ?? '';
      if (local.endsWith(`:${hexPort}`) && fields[3] === TCP_LISTEN && fields[9] !== undefined) {
        inodes.add(fields[9]);
      }
    }
  }
  return inodes;
}

/** `pid 1234: budgie agent` for the first process holding one of the sockets. */
async function ownerOf(inodes: Set<string>): Promise<string | undefined> {
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch((): string[] => [])).filter((e) => /^\d+$/.test(e));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch((): string[] => []);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        const command = cmdline
          .split('\0')
          .filter((a) => a !== '')
          .join(' ');
        return `pid ${pid}: ${command.slice(0, 80)}`;
      }
    }
  }
  return undefined;
}
