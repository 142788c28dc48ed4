import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../../src/agent/api-server';
import { imageService } from '../../../src/agent/services/images';
import { AgentClient } from '../../../src/api/client';
import { InvalidInputError, NotFoundError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { FakeImageStore } from '../../support/fakes/image-store';

/** `budgie image import` against an agent that takes 64 KiB at most (--max-import). */
let dir: string;
let server: ApiServer;
let client: AgentClient;
const MAX = 64 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-import-'));
  server = new ApiServer(join(dir, 'budgie.sock'), [
    imageService(new FakeImageStore({}), join(dir, 'tmp'), silentLogger(), MAX),
  ]);
  await mkdir(join(dir, 'tmp'));
  await server.start();
  client = new AgentClient(join(dir, 'budgie.sock'));
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
  await rm(dir, { recursive: true, force: true });
});

async function importFile(bytes: number): Promise<unknown> {
  const file = join(dir, `archive-${bytes}.tar`);
  await writeFile(file, Buffer.alloc(bytes, 1));
  try {
    const events = [];
    for await (const event of client.importImage(file)) events.push(event);
    return events;
  } catch (err) {
    return err;
  }
}

it('refuses an archive past --max-import as it streams in, in one line, and keeps nothing', async () => {
  const failure = await importFile(MAX * 4);
  expect(failure).toBeInstanceOf(InvalidInputError);
  expect((failure as Error).message).toBe(
    `import: the archive is larger than this agent takes (--max-import, ${MAX} bytes); raise it if the archive is meant`,
  );
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
});

it('passes one within it on to the image store', async () => {
  // The fake store has no archives: its answer shows the archive got past the cap to it.
  expect(await importFile(MAX / 2)).toEqual(new NotFoundError('no archives in the fake'));
});
