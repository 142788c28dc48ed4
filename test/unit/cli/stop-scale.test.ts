import { FailedPreconditionError, InvalidInputError, NotFoundError } from '../../../src/errors';
import { cli } from '../../support/cli';
import { FakeAppService } from '../../support/fake-app-service';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

describe('budgie stop, rm and scale', () => {
  let agent: FakeAppService;
  const run = (...argv: string[]) => cli([...argv, '--socket', agent.socket]);

  beforeEach(async () => {
    agent = await FakeAppService.start();
  });
  afterEach(() => agent.stop());

  it('stop prints the stopped IDs, one per line', async () => {
    agent.stopResponse = { stoppedIds: [ID_A, ID_B], app: 'webapp', unreachable: [] };
    const r = await run('stop', 'webapp');
    expect(r).toEqual({ code: 0, stdout: 'aaaaaaaaaaaa\nbbbbbbbbbbbb\n', stderr: '' });
    expect(agent.stopRequests).toEqual([{ target: 'webapp', here: false }]);
  });

  it("stop --here asks for this node's part only", async () => {
    agent.stopResponse = { stoppedIds: [ID_A], app: 'webapp', unreachable: [] };
    expect((await run('stop', 'webapp', '--here')).code).toBe(0);
    expect(agent.stopRequests).toEqual([{ target: 'webapp', here: true }]);
  });

  it('stop warns about members it could not reach, one line each', async () => {
    agent.stopResponse = { stoppedIds: [ID_A], app: 'webapp', unreachable: ['c (timed out)'] };
    const r = await run('stop', 'webapp');
    expect(r).toEqual({
      code: 0,
      stdout: 'aaaaaaaaaaaa\n',
      stderr:
        "budgie: warning: could not reach member c (timed out); webapp may still run there: run 'budgie stop webapp' again once it is back\n",
    });
  });

  it('rm asks the agent to remove (not stop) and prints the removed IDs', async () => {
    agent.removeResponse = { removedIds: [ID_A], app: '' };
    const r = await run('rm', 'aaaaaaaa');
    expect(r).toEqual({ code: 0, stdout: 'aaaaaaaaaaaa\n', stderr: '' });
    expect(agent.removeRequests).toEqual([{ target: 'aaaaaaaa', force: false }]);
    expect(agent.calls).toEqual(['removeReplicas']);
  });

  it.each([['--force'], ['-f']])('rm %s asks to stop what runs first', async (flag) => {
    agent.removeResponse = { removedIds: [ID_A, ID_B], app: 'webapp' };
    const r = await run('rm', flag, 'webapp');
    expect(r).toEqual({ code: 0, stdout: 'aaaaaaaaaaaa\nbbbbbbbbbbbb\n', stderr: '' });
    expect(agent.removeRequests).toEqual([{ target: 'webapp', force: true }]);
  });

  it("rm: the agent's refusal of a running replica is one line and exit 1", async () => {
    const message =
      "replica aaaaaaaaaaaa is running: stop it first with 'budgie stop aaaaaaaaaaaa' (or 'budgie rm --force aaaaaaaaaaaa')";
    agent.failures.removeReplicas = new FailedPreconditionError(message);
    const r = await run('rm', 'aaaa');
    expect(r).toEqual({ code: 1, stdout: '', stderr: `budgie: ${message}\n` });
  });

  it("stop: the agent's NotFound is one line and exit 1", async () => {
    agent.failures.stopApp = new NotFoundError('no replica or app matches nope');
    const r = await run('stop', 'nope');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'budgie: no replica or app matches nope\n' });
  });

  it('scale sends the count and prints what the app now runs', async () => {
    const r = await run('scale', 'webapp', '3');
    expect(r).toEqual({ code: 0, stdout: 'webapp: scaled to 3 replicas\n', stderr: '' });
    expect(agent.scaleRequests).toEqual([{ app: 'webapp', replicas: 3 }]);
  });

  it.each(['abc', '-1', '2.5', ''])('scale refuses %j in one usage line', async (n) => {
    const r = await run('scale', 'webapp', n);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^budgie: replicas must be a whole number .*budgie scale webapp 3.*\n$/,
    );
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(agent.calls).toEqual([]);
  });

  it("scale: the agent's refusal (outside min..max) is one line", async () => {
    agent.failures.scaleApp = new InvalidInputError('webapp runs 1 to 3 replicas, not 5');
    const r = await run('scale', 'webapp', '5');
    expect(r).toMatchObject({ code: 1, stderr: 'budgie: webapp runs 1 to 3 replicas, not 5\n' });
  });

  it.each([
    ['stop', 'budgie stop webapp'],
    ['rm', 'budgie rm webapp'],
    ['rm', 'budgie rm --force webapp'],
    ['scale', 'budgie scale webapp 3'],
    ['run', 'budgie run bundles/hello.bun'],
    ['ps', 'budgie ps --all'],
    ['logs', 'budgie logs -f webapp'],
  ])('%s --help shows examples', async (command, example) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(example);
  });
});

describe('every app command without an agent', () => {
  it.each([
    ['ps'],
    ['stop', 'webapp'],
    ['rm', 'webapp'],
    ['scale', 'webapp', '2'],
    ['logs', 'webapp'],
    ['run', 'test/fixtures/bundles/valid/minimal.bun'],
  ])('%s says in one line that no agent answers', async (...argv) => {
    const r = await cli([...argv, '--socket', '/nonexistent/budgie.sock']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "budgie: no Budgie agent answers at /nonexistent/budgie.sock: start one with 'budgie agent' (as root), or point --socket or BUDGIE_SOCKET at a running one\n",
    });
  });
});
