import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeOciLayoutTar } from '../../src/tools/imagebuild/archives';
import { buildImage } from '../../src/tools/imagebuild/image';
import { hostPlatform } from '../../src/tools/imagebuild/platform';
import { baseEtc } from '../../src/tools/imagebuild/rootfs-files';
import { TreeBuilder } from '../../src/tools/imagebuild/tree-builder';

const run = promisify(execFile);

export const UDP_ECHO_SOURCE = resolve(__dirname, '..', 'fixtures', 'udp-echo.c');
export const UDP_ECHO_PORT = 9000;

/**
 * Compiles test/fixtures/udp-echo.c statically with gcc into `<dir>/cache` and writes a one-layer
 * OCI archive running it on UDP_ECHO_PORT: each datagram is answered with "<hostname> <payload>".
 * Debian's busybox-static has no UDP server applet, hence a program of our own. Returns the tar.
 */
export async function udpEchoImage(dir: string): Promise<string> {
  const cache = join(dir, 'cache');
  await mkdir(cache, { recursive: true });
  const binary = join(cache, 'udp-echo');
  await run('gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', binary, UDP_ECHO_SOURCE]).catch(
    (err: unknown) => {
      throw new Error(`cannot compile ${UDP_ECHO_SOURCE}: install gcc and libc6-dev`, {
        cause: err,
      });
    },
  );
  const tree = new TreeBuilder().file('/bin/udp-echo', await readFile(binary), 0o755);
  baseEtc(tree);
  const image = buildImage({
    layers: [tree.build()],
    platform: hostPlatform(),
    config: {
      Cmd: ['/bin/udp-echo', String(UDP_ECHO_PORT)],
      Env: ['PATH=/bin'],
      ExposedPorts: [`${UDP_ECHO_PORT}/udp`],
      Labels: { 'org.opencontainers.image.title': 'udp-echo' },
    },
  });
  const tar = join(cache, 'udp-echo.tar');
  await writeOciLayoutTar(tar, image);
  return tar;
}
