import type { Descriptor, Platform } from '../oci/image-codecs';

export type { Platform };

/** Node's process.arch names → the OCI/Go names registries use (GOARCH). */
const OCI_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

/** The platform of this process: linux and the host's architecture. */
export function hostPlatform(arch: string = process.arch): Platform {
  return { os: 'linux', architecture: OCI_ARCH[arch] ?? arch };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

/**
 * Fills in the variant the way containerd's platforms.Normalize does, so that "linux/arm64"
 * matches a manifest labelled arm64/v8 and the other way round.
 */
function normalVariant(p: Platform): string | undefined {
  const variant = p.variant === '' ? undefined : p.variant;
  if (p.architecture === 'arm64') return variant ?? 'v8';
  if (p.architecture === 'arm') return variant ?? 'v7';
  return variant;
}

export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  return wanted.variant === undefined || normalVariant(wanted) === normalVariant(candidate);
}

/**
 * The index entry for `wanted`: an exact variant match is preferred; without a wanted variant
 * the normal one (arm64/v8, arm/v7) beats others. Entries without a platform, or for
 * "unknown/unknown" (BuildKit attestations), are never picked.
 */
export function choosePlatform(
  wanted: Platform,
  manifests: readonly Descriptor[],
): Descriptor | undefined {
  const candidates = manifests.filter(
    (m) => m.platform !== undefined && platformMatches(wanted, m.platform),
  );
  const preferred = normalVariant(wanted);
  return (
    candidates.find((m) => m.platform !== undefined && normalVariant(m.platform) === preferred) ??
    candidates[0]
  );
}

/** The platforms an index offers, for a "not found" message. */
export function listPlatforms(manifests: readonly Descriptor[]): string[] {
  const names = manifests
    .map((m) => m.platform)
    .filter((p): p is Platform => p !== undefined && p.os !== 'unknown')
    .map(formatPlatform);
  return [...new Set(names)];
}
