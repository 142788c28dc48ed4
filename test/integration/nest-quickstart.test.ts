import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostMachine, hostWorkshop } from '../../src/nest/host-workshop';
import { quickStart } from '../../src/nest/quickstart';

const run = promisify(execFile);

/**
 * A checkout in miniature: a package without dependencies whose build writes dist/main.js, and an
 * install.sh that records that it ran. Quick start runs the real npm and scripts in it, never in
 * this repository (npm ci there would pull the modules from under other running tests).
 */
async function miniCheckout(dir: string, installStatus = 0): Promise<void> {
  const name = 'budgie-mini';
  const build =
    'mkdir -p dist && printf \'#!/usr/bin/env node\\nconsole.log("mini budgie")\\n\' > dist/main.js && chmod +x dist/main.js';
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '0.0.0', private: true, scripts: { build } }),
  );
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      name,
      version: '0.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name, version: '0.0.0' } },
    }),
  );
  const scripts: Record<string, string> = {
    'install.sh': `echo "install.sh ran" > "$(dirname "$0")/installed"; echo installing; exit ${installStatus}`,
    'build-all.sh': 'exit 1',
  };
  for (const [file, body] of Object.entries(scripts)) {
    await writeFile(join(dir, file), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, file), 0o755);
  }
}

describe('quick start with the real workshop, in a miniature checkout', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'budgie-quickstart-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs npm ci and the build, links budgie into the bin dir, runs install.sh', async () => {
    const checkout = join(work, 'checkout');
    await run('mkdir', [checkout]);
    await miniCheckout(checkout);
    let out = '';
    const output = { write: (t: string) => (out += t) };
    const binDir = join(work, 'bin');
    await quickStart(
      hostWorkshop(output, new AbortController().signal, checkout),
      { ...hostMachine(), isRoot: true, platform: 'linux' },
      output,
      { binDir, offerService: () => Promise.resolve(true) },
    );
    // npm's own output depends on its log level (`npm run --silent` passes it down): the steps'
    // effects are what count.
    expect(out).toContain(`==> 1/4 npm ci (in ${checkout})\n`);
    expect(out).toContain('==> 2/4 npm run build\n');
    expect(await readlink(join(binDir, 'budgie'))).toBe(join(checkout, 'dist', 'main.js'));
    const { stdout } = await run(join(binDir, 'budgie'));
    expect(stdout).toBe('mini budgie\n');
    expect(out).toContain(`${binDir} is not on PATH`);
    expect(await readFile(join(checkout, 'installed'), 'utf8')).toBe('install.sh ran\n');
    expect(out).toContain('installing\n==> 4/4 installed the budgie-agent systemd unit');
  });

  it('stops with one line naming the step that failed', async () => {
    const checkout = join(work, 'checkout');
    await run('mkdir', [checkout]);
    await miniCheckout(checkout, 3);
    const output = { write: () => undefined };
    const started = quickStart(
      hostWorkshop(output, new AbortController().signal, checkout),
      { ...hostMachine(), isRoot: true, platform: 'linux' },
      output,
      { binDir: join(work, 'bin'), offerService: () => Promise.resolve(true) },
    );
    await expect(started).rejects.toThrow('install.sh: exited with status 3 (its output is above)');
  });

  it('refuses a folder that is not a checkout, naming what is missing', () => {
    expect(() =>
      hostWorkshop({ write: () => undefined }, new AbortController().signal, work),
    ).toThrow(`nest: needs a clone of the Budgie repository, and ${work} has no package.json`);
  });
});
