/** The release targets build-all.sh knows, and how a choice of platform and arch maps onto them. */
export const PLATFORMS = ['linux', 'darwin', 'windows'] as const;
export const ARCHES = ['amd64', 'arm64'] as const;

export type Platform = (typeof PLATFORMS)[number];
export type Arch = (typeof ARCHES)[number];

/** `linux/amd64`: build-all.sh's own spelling of a target. */
export type Target = `${Platform}/${Arch}`;

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}

/** Every target matching the choice; `all` on either side means every value of that side. */
export function selectTargets(platform: Platform | 'all', arch: Arch | 'all'): Target[] {
  const platforms = platform === 'all' ? PLATFORMS : [platform];
  const arches = arch === 'all' ? ARCHES : [arch];
  return platforms.flatMap((p) => arches.map((a): Target => `${p}/${a}`));
}

/** The target of the machine Node runs on (`process.platform`, `process.arch`), if it is one. */
export function hostTarget(nodePlatform: string, nodeArch: string): Target | undefined {
  const platform = nodePlatform === 'win32' ? 'windows' : nodePlatform;
  const arch = nodeArch === 'x64' ? 'amd64' : nodeArch;
  return isPlatform(platform) && isArch(arch) ? `${platform}/${arch}` : undefined;
}
