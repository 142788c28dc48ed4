import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

/** The names install.ps1 copies, read from its `$PackageFiles` and `$PackageDirs` lists. */
async function ps1List(name: string): Promise<string[]> {
  const text = await readFile(join(ROOT, 'install.ps1'), 'utf8');
  const list = new RegExp(`^\\$${name} = @\\(([^)]*)\\)$`, 'm').exec(text)?.[1];
  if (list === undefined) throw new Error(`install.ps1: no $${name}`);
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
}

describe('budgie nest build', () => {
  let out: string;
  let stdout: string;
  let version: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('run npm run build first');
    out = join(await mkdtemp(join(tmpdir(), 'budgie-nest-build-')), 'packages');
    version = (
      JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    ({ stdout } = await run(
      process.execPath,
      [MAIN, 'nest', 'build', '--platform', 'windows', '--arch', 'amd64'],
      { env: { ...process.env, OUT_DIR: out }, maxBuffer: 16 * 1024 * 1024 },
    ));
  }, 120_000);

  afterAll(async () => {
    await rm(resolve(out, '..'), { recursive: true, force: true });
  });

  it('runs build-all.sh for the target and says where each file is', () => {
    const zip = join(out, `budgie-${version}-windows-amd64.zip`);
    expect(stdout).toContain('==> building windows/amd64 with build-all.sh\n');
    expect(stdout).toContain('build-all.sh: windows/amd64: ');
    expect(stdout).toContain(`Packages in ${out}:\n  ${zip}\n  ${join(out, 'SHA256SUMS')}\n`);
    expect(existsSync(zip)).toBe(true);
  });

  it('puts install.ps1 in the Windows zip, beside exactly the files it installs', async () => {
    const { stdout: list } = await run('unzip', [
      '-Z1',
      join(out, `budgie-${version}-windows-amd64.zip`),
    ]);
    const top = `budgie-${version}-windows-amd64/`;
    const entries = new Set(
      list
        .split('\n')
        .filter((e) => e.startsWith(top) && e !== top)
        .map((e) => e.slice(top.length).split('/')[0]),
    );
    const installed = [...(await ps1List('PackageFiles')), ...(await ps1List('PackageDirs'))];
    expect([...entries].sort()).toEqual([...installed, 'install.ps1'].sort());
    const { stdout: script } = await run('unzip', [
      '-p',
      join(out, `budgie-${version}-windows-amd64.zip`),
      `${top}install.ps1`,
    ]);
    expect(script).toBe(await readFile(join(ROOT, 'install.ps1'), 'utf8'));
  });

  it('refuses a bad platform in one line, exit 2, before building anything', async () => {
    const failed = await run(process.execPath, [MAIN, 'nest', 'build', '--platform', 'beos']).then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(failed).toMatchObject({
      code: 2,
      stderr: 'budgie: --platform: expected one of linux, darwin, windows, got "beos"\n',
    });
  });
});
