import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KEYS, startInPty, type PtySession } from '../support/pty';

const run = promisify(execFile);
const MAIN = resolve(__dirname, '..', '..', 'dist', 'main.js');
const MENU = 'Budgie nest: what would you like to do?';
/** The help line under a select prompt: drawn once the prompt listens for keys. */
const READY = /navigate .* select/;

/** Moves the cursor down `n` entries to `entry` and presses Enter, once the prompt listens. */
async function pick(pty: PtySession, n: number, entry: string): Promise<void> {
  await pty.waitFor(READY);
  for (let i = 0; i < n; i++) pty.send(KEYS.down);
  // The first entry is highlighted from the start: nothing is drawn again without a key.
  if (n > 0) await pty.waitFor(`❯ ${entry}`);
  pty.send(KEYS.enter);
  await pty.waitFor(`✔`);
}

describe('budgie nest, the menu on a terminal', () => {
  let work: string;
  let pty: PtySession | undefined;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('run npm run build first');
    work = await mkdtemp(join(tmpdir(), 'budgie-nest-menu-'));
  });

  afterEach(() => {
    pty?.kill();
    pty = undefined;
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs the system check, a lesson and a custom build with the arrow keys, then quits', async () => {
    const out = join(work, 'packages');
    pty = startInPty([process.execPath, MAIN, 'nest'], { env: { ...process.env, OUT_DIR: out } });
    await pty.waitFor(MENU);
    await pick(pty, 3, 'System check');
    const screen = pty.text();
    for (const entry of ['Quick start', 'Custom build', 'Learn Budgie', 'System check', 'Quit']) {
      expect(screen).toContain(`  ${entry}`);
    }
    const check = await pty.waitFor(/\d+ ok, \d+ warnings?, \d+ missing: .*\n/);
    expect(check).toMatch(/CHECK +STATUS +DETAIL/);
    expect(check).toMatch(/^node +ok +/m);
    await pty.waitFor(MENU);

    await pick(pty, 2, 'Learn Budgie');
    await pick(pty, 1, 'Discovering containers on the LAN');
    const lesson = await pty.waitFor('$ budgie chirp');
    expect(lesson).toContain('$ budgie cluster init');
    await pty.waitFor(MENU);

    // Quick start asks first; No leaves the checkout as it is.
    await pick(pty, 0, 'Quick start');
    await pty.waitFor(/link budgie onto PATH\? \(Y\/n\)/);
    pty.send('n');
    pty.send(KEYS.enter);
    await pty.waitFor(MENU);

    await pick(pty, 1, 'Custom build');
    await pick(pty, 2, 'windows');
    await pick(pty, 0, 'amd64');
    const built = await pty.waitFor(/Packages in .*\n( {2}.*\n)+/, 60_000);
    expect(built).toContain(`Packages in ${out}:`);
    const files = await readdir(out);
    expect(files).toEqual(expect.arrayContaining(['SHA256SUMS']));
    expect(files.filter((f) => f.endsWith('-windows-amd64.zip'))).toHaveLength(1);
    for (const f of files) expect(built).toContain(join(out, f));

    await pick(pty, 4, 'Quit');
    expect(await pty.exited).toBe(0);
  });

  it('ends quietly on Ctrl+C', async () => {
    pty = startInPty([process.execPath, MAIN, 'nest']);
    await pty.waitFor(READY);
    pty.send(KEYS.ctrlC);
    expect(await pty.exited).toBe(0);
    expect(pty.text()).not.toContain('budgie:');
  });

  it('without a terminal: one line naming the subcommands, exit 2', async () => {
    const failed = await run(process.execPath, [MAIN, 'nest']).then(
      () => undefined,
      (e: unknown) => e as { code: number; stdout: string; stderr: string },
    );
    expect(failed).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'budgie: nest: the menu needs a terminal; use budgie nest quickstart, build, check or learn instead\n',
    });
  });
});
