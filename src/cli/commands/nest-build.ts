import type { CommandModule } from 'yargs';
import {
  ARCHES,
  PLATFORMS,
  buildPackages,
  hostTarget,
  isArch,
  isPlatform,
  selectTargets,
  type Target,
} from '../../nest';
import type { CliDeps, GlobalArgs } from '../context';
import { UsageError } from '../failure';
import { loadWorkshop } from './nest-host';

interface BuildArgs extends GlobalArgs {
  platform?: string;
  arch?: string;
  all: boolean;
}

/** The flags' targets: `--all`, or a platform and/or arch (the other side: every value); else the host. */
export function targetsFromFlags(
  flags: { platform?: string | undefined; arch?: string | undefined; all: boolean },
  host: { platform: string; arch: string },
): Target[] {
  const { platform, arch, all } = flags;
  if (platform !== undefined && !isPlatform(platform)) {
    throw new UsageError(`--platform: expected one of ${PLATFORMS.join(', ')}, got "${platform}"`);
  }
  if (arch !== undefined && !isArch(arch)) {
    throw new UsageError(`--arch: expected one of ${ARCHES.join(', ')}, got "${arch}"`);
  }
  if (all) {
    if (platform !== undefined || arch !== undefined) {
      throw new UsageError('--all: expected alone, without --platform or --arch');
    }
    return selectTargets('all', 'all');
  }
  if (platform !== undefined || arch !== undefined) {
    return selectTargets(platform ?? 'all', arch ?? 'all');
  }
  const here = hostTarget(host.platform, host.arch);
  if (here === undefined) {
    throw new UsageError(
      `--platform: this machine (${host.platform}/${host.arch}) is no target; name --platform and --arch, or --all`,
    );
  }
  return [here];
}

export function buildCommand(deps: CliDeps): CommandModule<GlobalArgs, BuildArgs> {
  return {
    command: 'build',
    describe: 'Build release packages with build-all.sh (default: for this machine)',
    builder: (y) =>
      y
        .option('platform', {
          type: 'string',
          describe: `${PLATFORMS.join(', ')} (alone: both arches)`,
        })
        .option('arch', {
          type: 'string',
          describe: `${ARCHES.join(', ')} (alone: every platform)`,
        })
        .option('all', { type: 'boolean', default: false, describe: 'Every platform and arch' })
        .example('$0 nest build --platform windows --arch amd64', 'one package')
        .example('$0 nest build --all', 'all six, plus a standalone executable for this machine'),
    handler: async (args) => {
      const targets = targetsFromFlags(args, { platform: process.platform, arch: process.arch });
      await buildPackagesFor(deps, targets);
    },
  };
}

export async function buildPackagesFor(deps: CliDeps, targets: readonly Target[]): Promise<void> {
  const { workshop } = await loadWorkshop(deps);
  await buildPackages(workshop, targets, deps.stdout);
}
