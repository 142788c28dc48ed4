import { buildPackages } from '../../../src/nest/build';
import { hostTarget, isArch, isPlatform, selectTargets } from '../../../src/nest/targets';
import { fakeWorkshop } from '../../support/fakes/workshop';

describe('release targets', () => {
  it('selects one target, a platform, an arch, or all six', () => {
    expect(selectTargets('darwin', 'arm64')).toEqual(['darwin/arm64']);
    expect(selectTargets('windows', 'all')).toEqual(['windows/amd64', 'windows/arm64']);
    expect(selectTargets('all', 'amd64')).toEqual(['linux/amd64', 'darwin/amd64', 'windows/amd64']);
    expect(selectTargets('all', 'all')).toHaveLength(6);
  });

  it("maps Node's platform and arch names onto build-all.sh's", () => {
    expect(hostTarget('linux', 'x64')).toBe('linux/amd64');
    expect(hostTarget('win32', 'arm64')).toBe('windows/arm64');
    expect(hostTarget('darwin', 'arm64')).toBe('darwin/arm64');
    expect(hostTarget('freebsd', 'x64')).toBeUndefined();
    expect(hostTarget('linux', 'ia32')).toBeUndefined();
  });

  it('knows the allowed values', () => {
    expect(['linux', 'darwin', 'windows', 'macos', 'win32'].map(isPlatform)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(['amd64', 'arm64', 'x64'].map(isArch)).toEqual([true, true, false]);
  });
});

describe('custom build', () => {
  it('runs build-all.sh for the targets and lists where the packages are', async () => {
    const w = fakeWorkshop('/src/b');
    let out = '';
    await buildPackages(w, ['windows/amd64'], { write: (t) => (out += t) });
    expect(w.calls).toEqual(['buildPackages windows/amd64']);
    expect(out).toBe(
      [
        '==> building windows/amd64 with build-all.sh',
        '',
        'Packages in /src/b/dist-packages:',
        '  /src/b/dist-packages/budgie-1.0.0-windows-amd64.tar.gz',
        '  /src/b/dist-packages/SHA256SUMS',
        '',
      ].join('\n'),
    );
  });
});
