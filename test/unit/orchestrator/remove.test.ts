import { access, writeFile } from 'node:fs/promises';
import { FailedPreconditionError, UnavailableError } from '../../../src/errors';
import { app, startHarness, until, type Harness } from './harness';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** `budgie rm`: exited replicas go for good; running ones only with force. */
describe('Orchestrator.remove', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const stateOf = (id: string) => h.orchestrator.list(true).find((r) => r.id === id)?.state;

  async function exitedReplica(code = 3): Promise<{ id: string; logPath: string }> {
    const view = h.orchestrator.list(false)[0];
    if (view === undefined) throw new Error('no replica runs');
    await writeFile(view.logPath, 'last words\n');
    h.runtime.exit(view.id, code);
    await until(() => stateOf(view.id) === 'exited', 'the exit');
    return { id: view.id, logPath: view.logPath };
  }

  it('removes an exited replica by prefix: container, network and log', async () => {
    await h.run(app({ restart: 'never', replicas: { min: 1, max: 1 } }));
    const { id, logPath } = await exitedReplica();
    const result = await h.orchestrator.remove(id.slice(0, 8), false);
    expect(result).toEqual({ removedIds: [id] });
    expect(stateOf(id)).toBeUndefined();
    expect((await h.runtime.list()).some((c) => c.id === id)).toBe(false);
    expect(h.network.attached.has(id)).toBe(false);
    expect(await exists(logPath)).toBe(false);
  });

  it('refuses a running replica in one line unless forced, which stops it', async () => {
    await h.run(app({ replicas: { min: 1, max: 2 } }));
    const [view] = h.orchestrator.list(false);
    const id = view?.id ?? '';
    const short = id.slice(0, 12);
    const refusal = h.orchestrator.remove(short, false);
    await expect(refusal).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(refusal).rejects.toThrow(
      `replica ${short} is running: stop it first with 'budgie stop ${short}' (or 'budgie rm --force ${short}')`,
    );
    expect(stateOf(id)).toBe('running');
    expect(await h.orchestrator.remove(short, true)).toEqual({ removedIds: [id] });
    expect(stateOf(id)).toBeUndefined();
    expect((await h.runtime.list()).some((c) => c.id === id)).toBe(false);
  });

  it('an app name removes only its exited replicas; none left is an error; force stops the app', async () => {
    await h.run(app({ restart: 'never', replicas: { min: 2, max: 2 } }));
    const { id } = await exitedReplica();
    const survivor = h.orchestrator.list(false)[0]?.id ?? '';
    expect(await h.orchestrator.remove('web', false)).toEqual({ removedIds: [id] });
    expect(stateOf(survivor)).toBe('running');
    await expect(h.orchestrator.remove('web', false)).rejects.toThrow(
      "app web has no exited replicas to remove: stop it with 'budgie stop web' (or 'budgie rm --force web')",
    );
    const forced = await h.orchestrator.remove('web', true);
    expect(forced.app).toBe('web');
    expect(forced.removedIds).toContain(survivor);
    expect(h.orchestrator.list(true)).toEqual([]);
    expect(h.store.records.has('web')).toBe(false);
  });

  it('a removal that fails (containerd away) is reported and can be tried again', async () => {
    await h.run(app({ restart: 'never', replicas: { min: 1, max: 1 } }));
    const { id } = await exitedReplica();
    h.runtime.failNext('remove', new UnavailableError('containerd is not reachable'), id);
    await expect(h.orchestrator.remove(id, false)).rejects.toThrow('containerd is not reachable');
    expect(stateOf(id)).toBe('exited');
    expect(await h.orchestrator.remove(id, false)).toEqual({ removedIds: [id] });
    expect(stateOf(id)).toBeUndefined();
  });

  it('names an unknown target', async () => {
    await expect(h.orchestrator.remove('nope', false)).rejects.toThrow(
      /no app or replica named nope/,
    );
  });
});

/** Docker's restart policies: what exits for good holds its place and is not started again. */
describe('restart policies', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  async function exitOne(code: number): Promise<string> {
    const view = h.orchestrator.list(false)[0];
    if (view === undefined) throw new Error('no replica runs');
    h.runtime.exit(view.id, code);
    await until(
      () => h.orchestrator.list(true).find((r) => r.id === view.id)?.state !== 'running',
      'the exit',
    );
    return view.id;
  }

  it.each([
    ['never', 0, false],
    ['never', 3, false],
    ['on-failure', 0, false],
    ['on-failure', 3, true],
    ['always', 0, true],
  ] as const)('restart: %s, exit %i: replaced %s', async (restart, code, replaced) => {
    await h.run(app({ restart, replicas: { min: 1, max: 1 } }));
    const id = await exitOne(code);
    if (replaced) {
      await until(
        () => h.orchestrator.list(false).some((r) => r.id !== id && r.state === 'running'),
        'a replacement',
      );
    } else {
      await new Promise((r) => setTimeout(r, 1_000)); // past the first backoff step
      expect(h.orchestrator.list(true).map((r) => [r.id, r.state])).toEqual([[id, 'exited']]);
    }
  });
});
