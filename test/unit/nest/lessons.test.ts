import { parseBundle } from '../../../src/bundle';
import { findLesson, LESSONS } from '../../../src/nest';
import { cli } from '../../support/cli';

/** Every `$ budgie ...` line of every lesson, as arguments (a trailing `&` dropped). */
const COMMANDS = LESSONS.flatMap((lesson) =>
  lesson.lines
    .filter((line) => line.startsWith('$ budgie '))
    .map((line) => line.slice('$ budgie '.length).replace(/ &$/, '').split(' ')),
);

describe('nest lessons', () => {
  it('cover the five topics of issue 6', () => {
    expect(LESSONS.map((l) => l.topic)).toEqual([
      'first-container',
      'lan',
      'replication',
      'managing',
      'bun-file',
    ]);
  });

  it('shows a .bun file that validates', () => {
    const lines = findLesson('bun-file')?.lines ?? [];
    const yaml = lines.filter((l) => l.startsWith('  ')).map((l) => l.slice(2));
    const app = parseBundle(yaml.join('\n'), 'web.bun');
    expect(app).toMatchObject({ name: 'web', replicas: { min: 2 } });
  });

  // Parsed for real (--help would skip the checks of flags) against an agent that is not there:
  // a command the CLI accepts gets as far as the socket (or the file); bad usage exits 2.
  it.each(COMMANDS.map((args) => [args.join(' '), args]))(
    'shows a command the CLI accepts: budgie %s',
    async (_shown, args) => {
      const r = await cli([...args, '--socket', '/nonexistent/budgie.sock']);
      expect(r.stderr).not.toMatch(/Unknown argument|missing argument|usage/i);
      expect(r.code).toBe(1);
    },
  );
});
