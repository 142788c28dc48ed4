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

  it('stops the agent quietly when it is stopped before it is up (it was waiting for containerd)', async () => {
    const stop = new AbortController();
    const r = await cli(['agent', '--config', '/dev/null', '--node-name', 'n1'], {
      signal: stop.signal,
      runAgent: (_config, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(new DOMException('The operation was aborted', 'AbortError'));
          });
          stop.abort();
        }),
    });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('still reports a failure of the agent that is not the stop', async () => {
    const r = await cli(['agent', '--config', '/dev/null', '--node-name', 'n1'], {
      runAgent: () => Promise.reject(new Error('boom')),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unexpected error: boom');
  });

  it('refuses a one-value flag given twice, naming it, and gathers a repeatable one', async () => {
    let peers: readonly string[] | undefined;
    const agent = (...extra: string[]) =>
      cli(['agent', '--config', '/dev/null', '--node-name', 'n1', ...extra], {
        runAgent: (config) => {
          peers = config.cluster.peers;
          return Promise.resolve();
        },
      });
    expect(await agent('--state-dir', '/tmp/a', '--state-dir', '/tmp/b')).toEqual({
      code: 2,
      stdout: '',
      stderr: "budgie: --state-dir: given 2 times, expected once\nRun 'budgie --help' for usage.\n",
    });
    expect(peers).toBeUndefined();
    const r = await agent('--peer', '10.0.0.1:7440', '--peer', '10.0.0.2:7440');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(peers).toEqual(['10.0.0.1:7440', '10.0.0.2:7440']);
  });
});
