import * as fsp from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { App } from '../../../src/bundle';
import { InternalError, InvalidInputError } from '../../../src/errors';
import type { FsOps } from '../../../src/fs';
import { AppStore, type AppRecord } from '../../../src/state';

const app = (name: string): App => ({
  version: '1.0',
  name,
  image: { kind: 'registry', reference: 'nginx:alpine' },
  ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
  volumes: [],
  environment: [{ name: 'APP_ENV', value: 'production' }],
  healthcheck: { path: '/health', intervalMs: 30_000, timeoutMs: 5_000, retries: 3 },
  replicas: { min: 1, max: 3 },
  restart: 'always',
  stopTimeoutMs: 10_000,
});
const record = (name: string, scale = 2): AppRecord => ({ app: app(name), scale, updatedMs: 1000 });

/** A logger whose entries the test can read. */
function capturingLogger() {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done) {
      entries.push(info);
      done();
    },
  });
  const log = winston.createLogger({
    level: 'debug',
    transports: [new winston.transports.Stream({ stream })],
  });
  return { log, entries };
}

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'budgie-state-'));
  dir = join(root, 'apps');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function store(fs?: FsOps) {
  const { log, entries } = capturingLogger();
  const s = new AppStore({ dir, log, now: () => 42, ...(fs === undefined ? {} : { fs }) });
  return { s, entries };
}

describe('AppStore', () => {
  it('round-trips records and lists them by name', async () => {
    const { s } = store();
    expect(await s.list()).toEqual([]);
    expect(await s.get('web')).toBeUndefined();
    await s.save(record('web'));
    await s.save(record('api', 1));
    expect(await s.get('web')).toEqual(record('web'));
    expect((await s.list()).map((r) => r.app.name)).toEqual(['api', 'web']);
    expect(await new AppStore({ dir, log: capturingLogger().log }).list()).toEqual([
      record('api', 1),
      record('web'),
    ]);
    await s.save(record('web', 3));
    expect((await s.get('web'))?.scale).toBe(3);
    await s.remove('web');
    await s.remove('web'); // removing twice is fine
    expect(await s.get('web')).toBeUndefined();
    expect(await readdir(dir)).toEqual(['api.json']);
  });

  it('keeps files private: 0600 files in a 0700 directory, no temp files left', async () => {
    const { s } = store();
    await s.save(record('web'));
    await s.save(record('web', 1));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'web.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('applies concurrent saves of one app in call order', async () => {
    const { s } = store();
    await Promise.all([1, 2, 3, 1, 2].map((n) => s.save(record('web', n))));
    expect((await s.get('web'))?.scale).toBe(2);
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('leaves the old file intact when the rename fails, and removes the temp file', async () => {
    let failRename = false;
    const fs: FsOps = {
      ...fsp,
      rename: async (from, to) => {
        if (failRename) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return fsp.rename(from, to);
      },
    };
    const { s } = store(fs);
    await s.save(record('web', 1));
    failRename = true;
    const err = await s.save(record('web', 3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(String(err)).toMatch(/saving app web: EIO/);
    expect(await readdir(dir)).toEqual(['web.json']);
    expect(await s.get('web')).toEqual(record('web', 1));
  });

  it('sweeps temp files a crash left behind, without touching the real file', async () => {
    const { s: first } = store();
    await first.save(record('web', 1));
    // A crash after writing the temp file, before the rename.
    await writeFile(join(dir, '.web.json.tmp-0123456789ab'), '{"half": ');
    const { s } = store();
    expect(await s.list()).toEqual([record('web', 1)]);
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('moves a corrupt file aside, warns naming it, and keeps the others', async () => {
    const { s: writer } = store();
    await writer.save(record('web'));
    await writeFile(join(dir, 'broken.json'), '{"app": {');
    const { s, entries } = store();
    expect(await s.list()).toEqual([record('web')]);
    expect((await readdir(dir)).sort()).toEqual(['broken.json.corrupt-42', 'web.json']);
    expect(await readFile(join(dir, 'broken.json.corrupt-42'), 'utf8')).toBe('{"app": {');
    const warn = entries.find((e) => e.level === 'warn');
    expect(warn).toMatchObject({
      file: join(dir, 'broken.json'),
      aside: join(dir, 'broken.json.corrupt-42'),
    });
    expect(String(warn?.problem)).toMatch(/^not JSON: /);
  });

  it('sets aside a record whose scale is outside the replica range', async () => {
    await fsp.mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'web.json'), JSON.stringify({ ...record('web'), scale: 7 }));
    const { s, entries } = store();
    expect(await s.get('web')).toBeUndefined();
    expect(entries.find((e) => e.level === 'warn')?.problem).toBe(
      'scale: expected an integer from 1 to 3, got 7',
    );
    expect(await readdir(dir)).toEqual(['web.json.corrupt-42']);
  });

  it('keeps stand-ins and the cluster min, and sets aside stand-ins past max', async () => {
    const { s } = store();
    const full = { ...record('web', 2), standIns: 1, clusterMin: 3 };
    await s.save(full);
    expect(await s.get('web')).toEqual(full);
    await writeFile(join(dir, 'web.json'), JSON.stringify({ ...full, standIns: 2 }));
    const { s: again, entries } = store();
    expect(await again.get('web')).toBeUndefined();
    expect(entries.find((e) => e.level === 'warn')?.problem).toBe(
      'standIns: expected an integer from 0 to 1, got 2',
    );
  });

  it('sets aside an invalid app and one filed under another name', async () => {
    await fsp.mkdir(dir, { recursive: true });
    const bad = { ...record('web'), app: { ...app('web'), restart: 'sometimes' } };
    await writeFile(join(dir, 'web.json'), JSON.stringify(bad));
    await writeFile(join(dir, 'other.json'), JSON.stringify(record('web')));
    const { s, entries } = store();
    expect(await s.list()).toEqual([]);
    const problems = entries.filter((e) => e.level === 'warn').map((e) => String(e.problem));
    expect(problems.sort()).toEqual([
      'app.name: expected "other" (the file\'s name), got "web"',
      expect.stringMatching(/^invalid app: restart/),
    ]);
  });

  it('refuses to save an invalid record or a name that is not a file name', async () => {
    const { s } = store();
    await expect(s.save(record('web', 0))).rejects.toThrow(InvalidInputError);
    await expect(s.get('../etc/passwd')).rejects.toThrow(InvalidInputError);
    await expect(s.remove('.hidden')).rejects.toThrow(InvalidInputError);
  });
});
