import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

/** `budgie ARGS` as a user runs it, with its code cache under `cacheHome`. */
async function budgie(cacheHome: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], {
      env: { ...process.env, XDG_CACHE_HOME: cacheHome },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the budgie executable (the CLI bundle and its code cache)', () => {
  let dir: string;
  let version: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli-bundle.js')))
      throw new Error('run npm run build first');
    version = (
      JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-launch-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a cache only the user can read the first time, and then uses it as it is', async () => {
    expect(await budgie(dir, '--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const cacheDir = join(dir, 'budgie');
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    const [name, ...others] = await readdir(cacheDir);
    expect(others).toEqual([]);
    expect(name).toMatch(/^code-[0-9a-f]{16}\.bin$/);
    const file = join(cacheDir, name ?? '');
    const first = await stat(file);
    expect(first.mode & 0o777).toBe(0o600);
    expect(first.size).toBeGreaterThan(100_000);

    const again = await budgie(dir, 'validate', '--help');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('budgie validate');
    expect((await stat(file)).mtimeMs).toBe(first.mtimeMs);
  });

  it('replaces a cache V8 refuses, and still runs', async () => {
    await budgie(dir, '--version');
    const cacheDir = join(dir, 'budgie');
    const [name] = await readdir(cacheDir);
    const file = join(cacheDir, name ?? '');
    await writeFile(file, 'not a code cache', { mode: 0o600 });
    expect(await budgie(dir, '--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await stat(file)).size).toBeGreaterThan(100_000);
  });

  it('neither reads nor writes a cache in a directory others may write', async () => {
    const cacheDir = join(dir, 'budgie');
    await budgie(dir, '--version');
    const [name] = await readdir(cacheDir);
    const file = join(cacheDir, name ?? '');
    await writeFile(file, 'planted by someone else', { mode: 0o600 });
    await chmod(cacheDir, 0o777);
    expect(await budgie(dir, '--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await readFile(file, 'utf8')).toBe('planted by someone else');
  });

  it('runs without any cache when there is no cache directory', async () => {
    expect(await budgie('', '--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it("prints an error raised in the agent's modules as the user's message (not as a bug)", async () => {
    await writeFile(join(dir, 'file'), '');
    // A flag before the command: the agent loads from the bundle, not from the modules alone.
    const r = await budgie(
      dir,
      '--log-level',
      'error',
      'agent',
      '--config',
      '/dev/null',
      '--node-name',
      'launch-test',
      '--containerd',
      join(dir, 'none.sock'),
      '--socket',
      join(dir, 'budgie.sock'),
      '--log-dir',
      join(dir, 'log'),
      '--state-dir',
      join(dir, 'file', 'state'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^budgie: state-dir: cannot create .*\/file\/state: ENOTDIR/);
    expect(r.stderr).not.toContain('unexpected error');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
