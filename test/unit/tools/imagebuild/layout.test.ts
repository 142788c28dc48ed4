import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageArchive } from '../../../../src/archive/image-archive';
import { InvalidInputError } from '../../../../src/errors';
import { decodeJson, Index } from '../../../../src/oci/image-codecs';
import {
  writeDockerSaveTar,
  writeOciLayoutDir,
  writeOciLayoutTar,
} from '../../../../src/tools/imagebuild/archives';
import { buildImage, buildIndex, type BuiltImage } from '../../../../src/tools/imagebuild/image';
import { dockerSaveFiles, ociLayoutFiles } from '../../../../src/tools/imagebuild/layout';
import { TreeBuilder } from '../../../../src/tools/imagebuild/tree-builder';
import { readTar } from './read-tar';

const image = (architecture: string): BuiltImage =>
  buildImage({
    layers: [new TreeBuilder().file('/hello', 'hi').build()],
    platform: { architecture, os: 'linux' },
    config: { Cmd: ['/hello'] },
  });

describe('OCI layouts and docker save archives', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-layout-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays out oci-layout, a named index.json and each blob once, in digest order', () => {
    const amd = image('amd64');
    const files = ociLayoutFiles([
      { refName: 'latest', artifact: amd },
      { refName: 'multi', artifact: buildIndex([amd, image('arm64')]) },
    ]);
    const paths = files.map((f) => f.path);
    expect(paths.slice(0, 2)).toEqual(['oci-layout', 'index.json']);
    const blobPaths = paths.slice(2);
    expect(blobPaths).toEqual([...new Set(blobPaths)].sort());
    // amd64's manifest, config and the shared layer appear once although both entries reach them.
    expect(blobPaths).toHaveLength(1 + 2 + 2 + 1);
    expect(JSON.parse(files[0]!.bytes.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = decodeJson(Index, files[1]!.bytes, 'index.json');
    expect(index.manifests).toEqual([
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: amd.manifest.digest,
        size: amd.manifest.size,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'org.opencontainers.image.ref.name': 'latest' },
      },
      expect.objectContaining({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        annotations: { 'org.opencontainers.image.ref.name': 'multi' },
      }),
    ]);
    expect(() =>
      ociLayoutFiles([
        { refName: 'x', artifact: amd },
        { refName: 'x', artifact: amd },
      ]),
    ).toThrow(InvalidInputError);
  });

  it('writes docker save archives: manifest.json, repositories, layer.tar per diff_id', () => {
    const amd = image('amd64');
    const files = dockerSaveFiles(amd, ['registry.lan:5000/hello:1.0']);
    const hex = amd.diffIds[0]!.slice('sha256:'.length);
    const configName = `${amd.config.digest.slice('sha256:'.length)}.json`;
    expect(files.map((f) => f.path)).toEqual([
      `${hex}/layer.tar`,
      configName,
      'manifest.json',
      'repositories',
    ]);
    expect(JSON.parse(files[2]!.bytes.toString())).toEqual([
      {
        Config: configName,
        RepoTags: ['registry.lan:5000/hello:1.0'],
        Layers: [`${hex}/layer.tar`],
      },
    ]);
    expect(JSON.parse(files[3]!.bytes.toString())).toEqual({
      'registry.lan:5000/hello': { '1.0': hex },
    });
    expect(files[0]!.bytes).toEqual(amd.layerTars[0]!.bytes);
    expect(() => dockerSaveFiles(amd, ['registry.lan:5000/hello'])).toThrow('needs a tag');
  });

  it('writes directories and tars that the image archive reader opens', async () => {
    const amd = image('amd64');
    const layoutDir = join(dir, 'hello');
    await writeOciLayoutDir(layoutDir, amd);
    await writeOciLayoutDir(layoutDir, amd, 'again');
    expect((await readdir(join(layoutDir, 'blobs', 'sha256'))).sort()).toEqual(
      amd.blobs.map((b) => b.digest.slice(7)).sort(),
    );
    const index = decodeJson(Index, await readFile(join(layoutDir, 'index.json')), 'index.json');
    expect(index.manifests).toEqual([
      expect.objectContaining({ annotations: { 'org.opencontainers.image.ref.name': 'again' } }),
    ]);

    const ociTar = join(dir, 'hello.tar');
    await writeOciLayoutTar(ociTar, amd);
    const fromOci = await openImageArchive(ociTar);
    expect(fromOci.images).toEqual([
      {
        name: 'localhost/hello:latest',
        target: expect.objectContaining({ digest: amd.manifest.digest }),
      },
    ]);
    expect(await fromOci.read(amd.layers[0]!.digest)).toEqual(amd.layers[0]!.bytes);
    const entries = readTar(await readFile(ociTar)).map((e) => e.path);
    expect(entries.slice(0, 2)).toEqual(['blobs/', 'blobs/sha256/']);

    const saveTar = join(dir, 'hello-save.tar');
    await writeDockerSaveTar(saveTar, amd, ['hello:1.0']);
    const fromSave = await openImageArchive(saveTar);
    expect(fromSave.images.map((i) => i.name)).toEqual(['hello:1.0']);
    expect(await fromSave.read(amd.config.digest)).toEqual(amd.config.bytes);
  });
});
