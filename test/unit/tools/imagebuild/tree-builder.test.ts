import { InvalidInputError } from '../../../../src/errors';
import { TreeBuilder } from '../../../../src/tools/imagebuild/tree-builder';

describe('tree builder', () => {
  it('adds missing parents, sorts parents first, and lets a parent be declared later', () => {
    const entries = new TreeBuilder()
      .file('/www/cgi-bin/env', 'x', 0o755)
      .symlink('/bin/sh', 'busybox')
      .file('/bin-extra', 'y')
      .dir('/www', 0o750)
      .build();
    expect(entries.map((e) => [e.path, e.type, 'mode' in e ? e.mode : undefined])).toEqual([
      ['bin', 'dir', 0o755],
      ['bin/sh', 'symlink', undefined],
      ['bin-extra', 'file', 0o644],
      ['www', 'dir', 0o750],
      ['www/cgi-bin', 'dir', 0o755],
      ['www/cgi-bin/env', 'file', 0o755],
    ]);
  });

  it('refuses a path twice, a file used as a directory, and paths that leave the root', () => {
    expect(() => new TreeBuilder().dir('/tmp').dir('/tmp')).toThrow(InvalidInputError);
    expect(() => new TreeBuilder().file('/a', '').file('/a/b', '')).toThrow(
      'archive has /a as a file, not a directory',
    );
    for (const bad of ['/', '', '/a/../b', '/a//b', './a']) {
      expect(() => new TreeBuilder().file(bad, '')).toThrow(InvalidInputError);
    }
  });
});
