import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FailedPreconditionError } from '../../errors';
import type { ImageSpec } from './image';
import { hostPlatform } from './platform';
import { baseEtc } from './rootfs-files';
import { TreeBuilder } from './tree-builder';

export const NGINX_GREETING = 'hello from budgie nginx';
export const NGINX_PORT = 8080;
const NGINX = '/usr/sbin/nginx';

export interface NginxImageOptions {
  /** A dynamically linked nginx; Debian's nginx-light installs /usr/sbin/nginx. */
  nginx?: string;
  /** Lists the shared objects a binary loads, absolute paths, loader included. Defaults to ldd. */
  sharedObjects?: (binary: string) => Promise<string[]>;
}

/**
 * A one-layer image with this machine's nginx, every library it links and the dynamic loader,
 * serving a small page and /health on 8080 with access logs off: a realistic benchmark target.
 */
export async function nginxImage(options: NginxImageOptions = {}): Promise<ImageSpec> {
  const binary = options.nginx ?? NGINX;
  const libraries = await (options.sharedObjects ?? lddPaths)(binary);
  const tree = new TreeBuilder().file(NGINX, await readBinary(binary), 0o755);
  // Each library goes where ldd found it: the loader searches there, and PT_INTERP names it.
  for (const lib of libraries) tree.file(lib, await readBinary(lib), 0o755);
  baseEtc(tree, [{ name: 'www-data', id: 33 }])
    .file('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n')
    .file('/etc/nginx/nginx.conf', NGINX_CONF)
    .file('/usr/share/nginx/html/index.html', `<!doctype html>\n<h1>${NGINX_GREETING}</h1>\n`)
    .dir('/var/lib/nginx')
    .dir('/var/log/nginx')
    .dir('/run');
  return {
    layers: [tree.build()],
    platform: hostPlatform(),
    config: {
      Cmd: [NGINX, '-c', '/etc/nginx/nginx.conf'],
      Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      ExposedPorts: [`${NGINX_PORT}/tcp`],
      Labels: { 'org.opencontainers.image.title': 'nginx' },
    },
  };
}

const NGINX_CONF = `user www-data www-data;
worker_processes auto;
daemon off;
master_process on;
pid /run/nginx.pid;
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type text/html;
    sendfile on;
    keepalive_timeout 65;

    server {
        listen ${NGINX_PORT};
        location = /health {
            default_type text/plain;
            return 200 "ok\\n";
        }
        location / {
            root /usr/share/nginx/html;
            index index.html;
        }
    }
}
`;

async function readBinary(path: string): Promise<Buffer> {
  return readFile(path).catch((err: unknown) => {
    throw new FailedPreconditionError(`cannot read ${path}: install nginx-light`, { cause: err });
  });
}

/** ldd's lines are "name => /path (0x…)", "/path (0x…)" for the loader, or no path (vdso). */
export function parseLdd(output: string, binary: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    if (line.includes('not found')) {
      throw new FailedPreconditionError(
        `${binary} needs a library this machine lacks: ${line.trim()}`,
      );
    }
    const match = /(?:^|=>)\s*(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line.trim());
    if (match?.[1] !== undefined) paths.push(match[1]);
  }
  return paths;
}

async function lddPaths(binary: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ldd', [binary]).catch((err: unknown) => {
    throw new FailedPreconditionError(`ldd ${binary} failed: install nginx-light`, { cause: err });
  });
  return parseLdd(stdout, binary);
}
