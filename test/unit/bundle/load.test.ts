import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, MAX_BUNDLE_BYTES } from '../../../src/bundle';
import { InvalidInputError, NotFoundError } from '../../../src/errors';

describe('loadBundle', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-bundle-load-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    const file = join(dir, 'nope.bun');
    await expect(loadBundle(file)).rejects.toThrow(new NotFoundError(`${file}: no such file`));
  });

  it('refuses a directory', async () => {
    await expect(loadBundle(dir)).rejects.toThrow(
      new InvalidInputError(`${dir}: is a directory, expected a .bun file`),
    );
  });

  it('refuses a device without reading it', async () => {
    await expect(loadBundle('/dev/zero')).rejects.toThrow('/dev/zero: not a regular file');
  });

  it('refuses a huge file without reading it', async () => {
    const file = join(dir, 'huge.bun');
    await writeFile(file, Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x20));
    await expect(loadBundle(file)).rejects.toThrow(/huge\.bun: file too large \(262145 bytes/);
  });

  it('resolves paths against the folder of the file', async () => {
    const file = join(dir, 'app.bun');
    await writeFile(file, 'version: "1.0"\nname: a\nimage:\n  oci_archive: img.tar\n');
    expect((await loadBundle(file)).image).toEqual({ kind: 'archive', path: join(dir, 'img.tar') });
  });
});
