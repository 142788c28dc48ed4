import { FailedPreconditionError } from '../../errors';
import type { Platform } from '../../oci/image-codecs';

const GO_ARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The platform of the binaries this machine has, in OCI (Go) spelling: linux/amd64, … */
export function hostPlatform(): Platform {
  const architecture = GO_ARCH[process.arch];
  if (architecture === undefined) {
    throw new FailedPreconditionError(
      `no OCI architecture name for this machine (${process.arch})`,
    );
  }
  return { architecture, os: 'linux' };
}

export function platformName(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join('/');
}
