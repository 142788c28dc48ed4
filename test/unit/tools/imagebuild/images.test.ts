import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError } from '../../../../src/errors';
import { BUSYBOX_APPLETS, busyboxHttpdImage } from '../../../../src/tools/imagebuild/busybox';
import { nginxImage, parseLdd } from '../../../../src/tools/imagebuild/nginx';
import type { TarEntry } from '../../../../src/tools/imagebuild/tar-writer';

const byPath = (entries: readonly TarEntry[]) => new Map(entries.map((e) => [e.path, e]));
const text = (e: TarEntry | undefined) => (e?.type === 'file' ? e.content.toString() : undefined);

describe('the test images', () => {
  let dir: string;
  let fake: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-images-'));
    fake = join(dir, 'fake-binary');
    await writeFile(fake, 'not really a binary');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('busybox-httpd: one binary, applet links, /www with health and CGI, root and nobody', async () => {
    const spec = await busyboxHttpdImage({
      busybox: fake,
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    });
    expect(spec.layers).toHaveLength(1);
    const files = byPath(spec.layers[0]!);
    expect(files.get('bin/busybox')).toEqual({
      type: 'file',
      path: 'bin/busybox',
      content: Buffer.from('not really a binary'),
      mode: 0o755,
    });
    for (const applet of ['sh', 'httpd', 'wget', 'sleep', 'nc', 'id', ...BUSYBOX_APPLETS]) {
      expect(files.get(`bin/${applet}`)).toEqual({
        type: 'symlink',
        path: `bin/${applet}`,
        target: 'busybox',
      });
    }
    expect(files.get('tmp')).toEqual({ type: 'dir', path: 'tmp', mode: 0o1777 });
    expect(text(files.get('www/health'))).toBe('ok');
    expect(text(files.get('www/index.html'))).toContain('hello from budgie busybox-httpd');
    expect(text(files.get('www/platform'))).toBe('linux/arm64/v8\n');
    expect(files.get('www/cgi-bin/hostname')).toMatchObject({ mode: 0o755 });
    expect(text(files.get('etc/passwd'))).toMatch(/^root:x:0:0:.*\nnobody:x:65534:65534:/);
    expect(text(files.get('etc/group'))).toBe('root:x:0:\nnobody:x:65534:\n');
    expect(spec.config).toMatchObject({
      Cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'],
      Env: ['PATH=/bin'],
      ExposedPorts: ['8080/tcp'],
    });
    expect(spec.platform).toEqual({ architecture: 'arm64', os: 'linux', variant: 'v8' });
  });

  it('busybox-httpd: says what to install when busybox is missing', async () => {
    await expect(busyboxHttpdImage({ busybox: join(dir, 'nope') })).rejects.toThrow(
      new FailedPreconditionError(`cannot read ${join(dir, 'nope')}: install busybox-static`),
    );
  });

  it('nginx: the binary, each library where ldd found it, config, dirs and www-data', async () => {
    const spec = await nginxImage({ nginx: fake, sharedObjects: () => Promise.resolve([fake]) });
    const files = byPath(spec.layers[0]!);
    expect(files.get('usr/sbin/nginx')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(files.get(fake.slice(1))).toMatchObject({ type: 'file', mode: 0o755 });
    const conf = text(files.get('etc/nginx/nginx.conf'));
    for (const line of [
      'daemon off;',
      'listen 8080;',
      'access_log off;',
      'error_log stderr warn;',
    ]) {
      expect(conf).toContain(line);
    }
    for (const d of ['var/lib/nginx', 'var/log/nginx', 'run', 'tmp'])
      expect(files.get(d)?.type).toBe('dir');
    expect(text(files.get('etc/passwd'))).toContain('\nwww-data:x:33:33:');
    expect(text(files.get('etc/group'))).toContain('\nwww-data:x:33:\n');
    expect(spec.config.Cmd).toEqual(['/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf']);
  });

  it('nginx: reads ldd output, loader included, vdso skipped, missing libraries refused', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f77)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f78)',
      '',
    ].join('\n');
    expect(parseLdd(out, 'nginx')).toEqual([
      '/lib/x86_64-linux-gnu/libz.so.1',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(() => parseLdd('\tlibfoo.so => not found\n', 'nginx')).toThrow(FailedPreconditionError);
  });
});
