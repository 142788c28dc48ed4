import { readFile } from 'node:fs/promises';
import { FailedPreconditionError } from '../../errors';
import type { Platform } from '../../oci/image-codecs';
import type { ImageSpec } from './image';
import { hostPlatform, platformName } from './platform';
import { baseEtc } from './rootfs-files';
import { TreeBuilder } from './tree-builder';

/** Applets linked into /bin: the httpd itself and what tests and people reach for in a shell. */
// prettier-ignore
export const BUSYBOX_APPLETS = [
  '[', 'ash', 'awk', 'basename', 'cat', 'chmod', 'cp', 'cut', 'date', 'df', 'dirname', 'du',
  'echo', 'env', 'false', 'find', 'free', 'grep', 'head', 'hostname', 'httpd', 'id', 'ifconfig',
  'ip', 'kill', 'ln', 'ls', 'mkdir', 'mv', 'nc', 'netstat', 'nproc', 'nslookup', 'ping', 'printf',
  'ps', 'pwd', 'readlink', 'rm', 'sed', 'seq', 'sh', 'sleep', 'sort', 'stat', 'tail', 'tee',
  'test', 'timeout', 'top', 'touch', 'tr', 'true', 'uname', 'uniq', 'usleep', 'vi', 'wc', 'wget',
  'which', 'whoami', 'xargs', 'yes',
] as const;

/** What GET / answers, so a test can tell this image's httpd from anything else on the port. */
export const BUSYBOX_GREETING = 'hello from budgie busybox-httpd';
export const HTTPD_PORT = 8080;

export interface BusyboxImageOptions {
  /** A statically linked busybox; Debian's busybox-static installs /bin/busybox. */
  busybox?: string;
  /** Defaults to this machine's. Another platform only relabels the same binary (for pull tests). */
  platform?: Platform;
}

/**
 * A one-layer image serving /www with busybox httpd on 8080: `/` says hello and names the
 * platform, `/health` says "ok", `/cgi-bin/hostname` and `/cgi-bin/env` tell replicas apart and
 * show the environment the container got.
 */
export async function busyboxHttpdImage(options: BusyboxImageOptions = {}): Promise<ImageSpec> {
  const source = options.busybox ?? '/bin/busybox';
  const platform = options.platform ?? hostPlatform();
  const binary = await readFile(source).catch((err: unknown) => {
    throw new FailedPreconditionError(`cannot read ${source}: install busybox-static`, {
      cause: err,
    });
  });
  const tree = new TreeBuilder().file('/bin/busybox', binary, 0o755);
  for (const applet of BUSYBOX_APPLETS) tree.symlink(`/bin/${applet}`, 'busybox');
  baseEtc(tree);
  tree
    .file('/www/index.html', indexPage(platformName(platform)))
    .file('/www/health', 'ok')
    .file('/www/platform', `${platformName(platform)}\n`)
    .file('/www/cgi-bin/hostname', cgi('hostname'), 0o755)
    .file('/www/cgi-bin/env', cgi('env | sort'), 0o755);
  return {
    layers: [tree.build()],
    platform,
    config: {
      Cmd: ['httpd', '-f', '-p', String(HTTPD_PORT), '-h', '/www'],
      Env: ['PATH=/bin'],
      ExposedPorts: [`${HTTPD_PORT}/tcp`],
      Labels: {
        'org.opencontainers.image.title': 'busybox-httpd',
        'org.opencontainers.image.description': 'Budgie test image: busybox httpd on 8080',
      },
    },
  };
}

function indexPage(platform: string): string {
  return [
    '<!doctype html>',
    '<title>busybox-httpd</title>',
    `<h1>${BUSYBOX_GREETING}</h1>`,
    `<p>platform ${platform}</p>`,
    '',
  ].join('\n');
}

function cgi(command: string): string {
  // CRLF: httpd passes CGI headers through as written, and strict HTTP clients refuse bare LF.
  return `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${command}\n`;
}
