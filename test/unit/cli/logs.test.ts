import { LogLineWriter } from '../../../src/cli/log-lines';
import { NotFoundError } from '../../../src/errors';
import type { LogsResponse } from '../../../src/gen/budgie/v1/apps';
import { cli } from '../../support/cli';
import { FakeAppService, replica } from '../../support/fake-app-service';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);
const chunk = (replicaId: string, text: string): LogsResponse => ({
  replicaId,
  data: Buffer.from(text),
});

describe('budgie logs', () => {
  let agent: FakeAppService;
  const logs = (...argv: string[]) => cli(['logs', ...argv, '--socket', agent.socket]);

  beforeEach(async () => {
    agent = await FakeAppService.start();
  });
  afterEach(() => agent.stop());

  it("passes one replica's output through unchanged", async () => {
    agent.replicas = [];
    agent.logChunks = [chunk(ID_A, 'hello\nwor'), chunk(ID_A, 'ld\nno newline')];
    const r = await logs('aaaa', '--tail', '20');
    expect(r).toEqual({ code: 0, stdout: 'hello\nworld\nno newline', stderr: '' });
    expect(agent.logsRequests).toEqual([
      { target: 'aaaa', follow: false, tail: 20, sinceUnixMs: 0 },
    ]);
    expect(agent.listRequests).toEqual([{ all: true, app: 'aaaa' }]);
  });

  it("prefixes an app's lines by replica, keeping partial lines together", async () => {
    agent.replicas = [replica({ id: ID_A }), replica({ id: ID_B })];
    agent.logChunks = [
      chunk(ID_A, 'GET / 200\nGET /fa'),
      chunk(ID_B, 'started\nlisten'),
      chunk(ID_A, 'vicon.ico 404\n'),
      chunk(ID_B, 'ing on :80\nlast words'),
    ];
    const r = await logs('webapp');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'aaaaaaaaaaaa | GET / 200',
        'bbbbbbbbbbbb | started',
        'aaaaaaaaaaaa | GET /favicon.ico 404',
        'bbbbbbbbbbbb | listening on :80',
        'bbbbbbbbbbbb | last words',
        '',
      ].join('\n'),
    );
    expect(agent.logsRequests).toEqual([
      { target: 'webapp', follow: false, tail: 0, sinceUnixMs: 0 },
    ]);
  });

  it('ends quietly when Ctrl-C stops a follow, cancelling the stream', async () => {
    agent.replicas = [replica({ id: ID_A })];
    agent.logChunks = [chunk(ID_A, 'one\n')];
    const controller = new AbortController();
    let stdout = '';
    const r = await cli(['logs', 'webapp', '--follow', '--socket', agent.socket], {
      signal: controller.signal,
      stdout: {
        isTTY: false,
        write: (t) => {
          stdout += t;
          controller.abort();
        },
      },
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(stdout).toBe('one\n');
    expect(agent.logsRequests).toEqual([
      { target: 'webapp', follow: true, tail: 0, sinceUnixMs: 0 },
    ]);
    for (let i = 0; i < 50 && agent.cancelled.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(agent.cancelled).toEqual(['logs']);
  });

  it('sends --since as unix milliseconds: ago, RFC 3339 and unix seconds', async () => {
    agent.replicas = [];
    const before = Date.now();
    expect((await logs('aaaa', '--since', '1h30m')).code).toBe(0);
    expect((await logs('aaaa', '--since', '2026-11-29T10:00:00Z')).code).toBe(0);
    expect((await logs('aaaa', '--since', '1764410400')).code).toBe(0);
    const [ago, rfc, unix] = agent.logsRequests.map((r) => r.sinceUnixMs);
    expect(ago).toBeGreaterThanOrEqual(before - 5_400_000);
    expect(ago).toBeLessThanOrEqual(Date.now() - 5_400_000);
    expect(rfc).toBe(Date.UTC(2026, 10, 29, 10));
    expect(unix).toBe(1_764_410_400_000);
  });

  it('refuses a --since it cannot read, naming the option', async () => {
    const r = await logs('aaaa', '--since', 'yesterday');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgie: --since must be a duration like '10m'.*got 'yesterday'\n$/);
    expect(agent.logsRequests).toEqual([]);
  });

  it("prints the agent's NotFound in one line", async () => {
    agent.failures.logs = new NotFoundError('no replica or app matches nope');
    const r = await logs('nope');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'budgie: no replica or app matches nope\n' });
  });

  it.each(['-1', 'ten', '1e3'])('refuses --tail %s in one usage line', async (tail) => {
    const r = await logs('webapp', '--tail', tail);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgie: --tail must be a whole number .*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(agent.calls).toEqual([]);
  });
});

describe('LogLineWriter', () => {
  const writer = (prefixed: boolean) => {
    const out = { text: '', isTTY: false, write: (t: string) => (out.text += t) };
    return { out, w: new LogLineWriter(out, prefixed) };
  };

  it('switches to prefixes on a fresh line when a second replica appears', () => {
    const { out, w } = writer(false);
    w.write(ID_A, Buffer.from('one\ntw'));
    w.write(ID_B, Buffer.from('new\n'));
    w.write(ID_A, Buffer.from('o\n'));
    w.end();
    expect(out.text).toBe('one\ntw\nbbbbbbbbbbbb | new\naaaaaaaaaaaa | o\n');
  });

  it('keeps a UTF-8 character split across chunks intact', () => {
    const { out, w } = writer(true);
    const bytes = Buffer.from('grüße\n');
    w.write(ID_A, bytes.subarray(0, 3));
    w.write(ID_A, bytes.subarray(3));
    w.end();
    expect(out.text).toBe('aaaaaaaaaaaa | grüße\n');
  });
});
