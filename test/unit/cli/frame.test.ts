import { cli } from '../../support/cli';

describe('the CLI frame', () => {
  it('prints the version', async () => {
    const r = await cli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: '9.9.9-test\n' });
  });

  it('lists every command in --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of [
      'run',
      'ps',
      'stop',
      'logs',
      'chirp',
      'nest',
      'validate',
      'image',
      'agent',
      'cluster',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`budgie ${c}\\b`));
    }
  });

  it('refuses an unknown command with exit 2 and a hint', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgie: Unknown argument: frobnicate/);
    expect(r.stderr).toContain("Run 'budgie --help' for usage.");
  });

  it('refuses a missing argument naming it', async () => {
    const r = await cli(['image', 'pull']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('reference');
  });

  it('prints a completion script', async () => {
    const r = await cli(['completion']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete');
  });

  it('says in one line when no agent answers, and how to start one', async () => {
    const r = await cli(['image', 'ls', '--socket', '/nonexistent/budgie.sock']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "budgie: no Budgie agent answers at /nonexistent/budgie.sock: start one with 'budgie agent' (as root), or point --socket or BUDGIE_SOCKET at a running one\n",
    );
  });
});
