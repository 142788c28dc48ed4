import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const INSTALL = join(ROOT, 'install.sh');

/** Runs install.sh into `destdir`; never touches the real /usr/local, /etc or systemd. */
async function install(destdir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [INSTALL, ...args], {
    env: { ...process.env, DESTDIR: destdir, PREFIX: '/usr/local' },
  });
  return stdout;
}

async function mode(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8);
}

/** Every path under `dir` except inside node_modules (thousands of files, checked otherwise). */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries
    .map((e) => relative(dir, join(dir, e)))
    .filter((p) => !p.includes('node_modules/'))
    .sort();
}

describe('install.sh into a temp DESTDIR', () => {
  let dest: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('run npm run build first');
    dest = await mkdtemp('/tmp/binstall-');
  });

  afterAll(async () => {
    await rm(dest, { recursive: true, force: true });
  });

  it('installs the CLI, its production modules, config, dirs and the unit, with their modes', async () => {
    const out = await install(dest);
    expect(out).toContain('install.sh: installed /usr/local/bin/budgie');
    const lib = join(dest, 'usr/local/lib/budgie');
    expect(await mode(join(dest, 'usr/local/bin/budgie'))).toBe('755');
    expect(existsSync(join(lib, 'dist/main.js'))).toBe(true);
    expect(existsSync(join(lib, 'proto'))).toBe(true);
    expect(existsSync(join(lib, 'node_modules/@grpc/grpc-js/package.json'))).toBe(true);
    // Development tools stay behind.
    expect(existsSync(join(lib, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(lib, 'node_modules/jest'))).toBe(false);
    expect(await mode(join(dest, 'etc/budgie/config.yaml'))).toBe('644');
    expect(await mode(join(dest, 'var/lib/budgie'))).toBe('700');
    expect(await mode(join(dest, 'var/log/budgie'))).toBe('750');
    const unit = join(dest, 'etc/systemd/system/budgie-agent.service');
    expect(await mode(unit)).toBe('644');
    expect(await readFile(unit, 'utf8')).toContain(
      'ExecStart=/usr/local/bin/budgie agent --config /etc/budgie/config.yaml',
    );
    const config = await readFile(join(dest, 'etc/budgie/config.yaml'), 'utf8');
    // Commented defaults only: the agent reads it as empty.
    expect(config.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
    expect(config).toContain('#containerd: /run/containerd/containerd.sock');
  });

  it('installs a launcher that runs budgie, with every module the agent needs', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const { stdout } = await run(join(dest, 'usr/local/bin/budgie'), ['--version']);
    expect(stdout).toBe(`${pkg.version}\n`);
    const agent = join(dest, 'usr/local/lib/budgie/dist/agent/index.js');
    await run(process.execPath, ['-e', `require(${JSON.stringify(agent)})`], { cwd: '/' });
  });

  it('is idempotent and never overwrites an existing config', async () => {
    const config = join(dest, 'etc/budgie/config.yaml');
    await writeFile(config, 'log_level: debug\n');
    const before = await tree(dest);
    const out = await install(dest);
    expect(out).toContain('kept the existing /etc/budgie/config.yaml');
    expect(await tree(dest)).toEqual(before);
    expect(await readFile(config, 'utf8')).toBe('log_level: debug\n');
    const { stdout } = await run(join(dest, 'usr/local/bin/budgie'), ['--version']);
    expect(stdout).not.toBe('');
  });

  it('--uninstall removes what it installed and keeps config, state and logs', async () => {
    await writeFile(join(dest, 'var/lib/budgie/marker'), 'state');
    const out = await install(dest, '--uninstall');
    expect(out).toContain('kept /etc/budgie');
    expect(existsSync(join(dest, 'usr/local/bin/budgie'))).toBe(false);
    expect(existsSync(join(dest, 'usr/local/lib/budgie'))).toBe(false);
    expect(existsSync(join(dest, 'etc/systemd/system/budgie-agent.service'))).toBe(false);
    expect(await readFile(join(dest, 'etc/budgie/config.yaml'), 'utf8')).toBe('log_level: debug\n');
    expect(await readFile(join(dest, 'var/lib/budgie/marker'), 'utf8')).toBe('state');
    expect(existsSync(join(dest, 'var/log/budgie'))).toBe(true);
    // Uninstalling twice is fine too.
    await install(dest, '--uninstall');
  });

  it('refuses an unknown argument naming it', async () => {
    await expect(install(dest, '--frobnicate')).rejects.toMatchObject({
      code: 1,
      stderr:
        "install.sh: unknown argument '--frobnicate' (expected --start, --uninstall or --help)\n",
    });
  });
});
