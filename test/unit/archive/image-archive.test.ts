import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageArchive } from '../../../src/archive/image-archive';
import { indexTar } from '../../../src/archive/tar-index';
import { InvalidInputError, NotFoundError } from '../../../src/errors';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('image archives', () => {
  let dir: string;
  const layer = Buffer.from('pretend layer bytes '.repeat(100));
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-archive-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function ociLayout(
    name: string,
    refName?: string,
  ): Promise<{ path: string; manifestDigest: string }> {
    const root = join(dir, name);
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${sha(config)}`,
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: `sha256:${sha(layer)}`,
            size: layer.length,
          },
        ],
      }),
    );
    for (const blob of [manifest, config, layer])
      await writeFile(join(root, 'blobs', 'sha256', sha(blob)), blob);
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const annotations =
      refName === undefined ? {} : { 'org.opencontainers.image.ref.name': refName };
    await writeFile(
      join(root, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${sha(manifest)}`,
            size: manifest.length,
            annotations,
          },
        ],
      }),
    );
    return { path: root, manifestDigest: `sha256:${sha(manifest)}` };
  }

  it('reads an OCI layout directory, naming a bare tag after the archive', async () => {
    const { path, manifestDigest } = await ociLayout('web', 'v1');
    const archive = await openImageArchive(path);
    expect(archive.images).toEqual([
      { name: 'localhost/web:v1', target: expect.objectContaining({ digest: manifestDigest }) },
    ]);
    expect(await collect(archive.stream(`sha256:${sha(layer)}`))).toEqual(layer);
  });

  it('reads the same layout as a tar (pax headers, long names) by random access', async () => {
    const { path, manifestDigest } = await ociLayout('app', 'registry.lan:5000/team/app:2.0');
    const tarPath = join(dir, 'app.tar');
    execFileSync('tar', ['--format=pax', '-cf', tarPath, '-C', path, '.']);
    const archive = await openImageArchive(tarPath);
    expect(archive.images[0]).toEqual({
      name: 'registry.lan:5000/team/app:2.0',
      target: expect.objectContaining({ digest: manifestDigest }),
    });
    expect(archive.has(`sha256:${sha(layer)}`)).toBe(true);
    expect(await collect(archive.stream(`sha256:${sha(layer)}`))).toEqual(layer);
    expect(JSON.parse((await archive.read(`sha256:${sha(config)}`)).toString())).toEqual(
      JSON.parse(config.toString()),
    );
  });

  it('indexes GNU long names', async () => {
    const root = join(dir, 'gnu');
    const long = 'x'.repeat(150);
    await mkdir(root);
    await writeFile(join(root, long), 'hello');
    const tarPath = join(dir, 'gnu.tar');
    execFileSync('tar', ['--format=gnu', '-cf', tarPath, '-C', root, long]);
    expect((await indexTar(tarPath)).get(long)).toEqual({ offset: expect.any(Number), size: 5 });
  });

  it('reads a docker save tar and writes it a schema 2 manifest', async () => {
    const root = join(dir, 'save');
    await mkdir(join(root, 'abc'), { recursive: true });
    await writeFile(join(root, 'abc', 'layer.tar'), layer);
    await writeFile(join(root, 'cfg.json'), config);
    await writeFile(
      join(root, 'manifest.json'),
      JSON.stringify([
        { Config: 'cfg.json', RepoTags: ['hello:latest'], Layers: ['abc/layer.tar'] },
      ]),
    );
    const tarPath = join(dir, 'save.tar');
    execFileSync('tar', ['-cf', tarPath, '-C', root, '.']);
    const archive = await openImageArchive(tarPath);
    expect(archive.images.map((i) => i.name)).toEqual(['hello:latest']);
    const target = archive.images[0]!.target;
    const manifest = JSON.parse((await archive.read(target.digest)).toString()) as {
      layers: { digest: string; mediaType: string }[];
      config: { digest: string };
    };
    expect(target.digest).toBe(`sha256:${sha(await archive.read(target.digest))}`);
    expect(manifest.config.digest).toBe(`sha256:${sha(config)}`);
    expect(manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
        digest: `sha256:${sha(layer)}`,
        size: layer.length,
      },
    ]);
  });

  it('refuses what is not an image archive, and a missing file', async () => {
    const notImage = join(dir, 'plain.tar');
    await writeFile(join(dir, 'readme'), 'hi');
    execFileSync('tar', ['-cf', notImage, '-C', dir, 'readme']);
    await expect(openImageArchive(notImage)).rejects.toThrow(
      `${notImage}: not an OCI layout or a docker save archive (no index.json or manifest.json)`,
    );
    const garbage = join(dir, 'garbage.tar');
    await writeFile(garbage, Buffer.alloc(2048, 7));
    await expect(openImageArchive(garbage)).rejects.toThrow(InvalidInputError);
    await expect(openImageArchive(join(dir, 'nope.tar'))).rejects.toThrow(NotFoundError);
  });
});
