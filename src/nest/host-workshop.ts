import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { FailedPreconditionError, messageOf } from '../errors';
import type { Output } from './output';
import { runProcess } from './run-process';
import type { Target } from './targets';
import type { BuiltPackages, Machine, Workshop } from './workshop';

/**
 * The checkout this budgie was built from: dist/nest (or src/nest under ts-jest) is two below
 * (the CLI's bundle, dist/cli-bundle.js, is rewritten to look one up: scripts/bundle.ts).
 */
const CHECKOUT = resolve(__dirname, '..', '..');

/**
 * The real Workshop, in the checkout this budgie runs from. A release package is not a checkout
 * (no build-all.sh beside it): then the error says what Quick start and Custom build need.
 */
export function hostWorkshop(out: Output, signal: AbortSignal, checkout = CHECKOUT): Workshop {
  for (const file of ['package.json', 'build-all.sh', 'install.sh']) {
    if (!existsSync(join(checkout, file))) {
      throw new FailedPreconditionError(
        `nest: needs a clone of the Budgie repository, and ${checkout} has no ${file}`,
      );
    }
  }
  const run = (label: string, command: string, args: string[], cwd = checkout): Promise<void> =>
    runProcess(label, command, args, { cwd, out, signal });
  return {
    checkout,
    installDependencies: () => run('npm ci', 'npm', ['ci']),
    build: () => run('npm run build', 'npm', ['run', 'build']),
    linkCli: (binDir) => linkCli(join(checkout, 'dist', 'main.js'), binDir),
    installService: () => run('install.sh', join(checkout, 'install.sh'), []),
    buildPackages: async (targets: readonly Target[]): Promise<BuiltPackages> => {
      // build-all.sh's own default and its reading of a relative OUT_DIR (against the cwd).
      const dir = resolve(process.env['OUT_DIR'] ?? join(checkout, 'dist-packages'));
      await run('build-all.sh', join(checkout, 'build-all.sh'), [...targets], process.cwd());
      return { dir, files: (await readdir(dir)).sort(packagesFirst) };
    },
  };
}

/** The packages by name, then the checksums that cover them. */
function packagesFirst(a: string, b: string): number {
  return Number(a === 'SHA256SUMS') - Number(b === 'SHA256SUMS') || a.localeCompare(b);
}

/** Replaces `binDir/budgie` in one rename, so that a running `budgie` never sees it missing. */
async function linkCli(target: string, binDir: string): Promise<string> {
  const link = join(binDir, 'budgie');
  const temp = join(binDir, `.budgie.${process.pid}.tmp`);
  try {
    await mkdir(binDir, { recursive: true });
    await rm(temp, { force: true });
    await symlink(target, temp);
    await rename(temp, link);
  } catch (e) {
    throw new FailedPreconditionError(`link: cannot create ${link}: ${messageOf(e)}`);
  }
  return link;
}

export function hostMachine(): Machine {
  return {
    isRoot: process.getuid?.() === 0,
    platform: process.platform,
    home: homedir(),
    pathDirs: (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''),
  };
}
