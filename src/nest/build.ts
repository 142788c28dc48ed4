import { join } from 'node:path';
import type { Output } from './output';
import type { Target } from './targets';
import type { Workshop } from './workshop';

/** Custom build: build-all.sh for the chosen targets, then where the packages are. */
export async function buildPackages(
  workshop: Workshop,
  targets: readonly Target[],
  out: Output,
): Promise<void> {
  out.write(`==> building ${targets.join(' ')} with build-all.sh\n`);
  const built = await workshop.buildPackages(targets);
  out.write(`\nPackages in ${built.dir}:\n`);
  for (const file of built.files) out.write(`  ${join(built.dir, file)}\n`);
}
