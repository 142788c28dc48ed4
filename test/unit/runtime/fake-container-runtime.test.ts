import {
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  UnavailableError,
} from '../../../src/errors';
import type { ContainerCreateOptions, RuntimeEvent } from '../../../src/runtime/containers';
import { FakeContainerRuntime } from '../../support/fakes/container-runtime';

function options(id: string, labels: Record<string, string> = {}): ContainerCreateOptions {
  return {
    id,
    image: 'busybox',
    labels,
    environment: [],
    volumes: [],
    logPath: `/logs/${id}.log`,
  };
}

describe('FakeContainerRuntime', () => {
  let clock: number;
  let runtime: FakeContainerRuntime;

  beforeEach(() => {
    clock = 1000;
    runtime = new FakeContainerRuntime({
      images: ['busybox'],
      now: () => clock,
      onTerm: (o) => (o.labels.stubborn === 'yes' ? { exits: false } : { exits: true, code: 0 }),
    });
  });

  it('goes through create, start, stop and remove with the real states', async () => {
    expect(await runtime.create(options('a', { app: 'web' }))).toMatchObject({
      state: 'created',
      createdAtMs: 1000,
      logPath: '/logs/a.log',
    });
    const pid = await runtime.start('a');
    expect(await runtime.start('a')).toBe(pid);
    expect(await runtime.get('a')).toMatchObject({ state: 'running', pid });
    clock = 2000;
    expect(await runtime.stop('a', 5000)).toEqual({ code: 0, atMs: 2000 });
    expect(await runtime.get('a')).toMatchObject({ state: 'stopped', exitCode: 0 });
    await runtime.remove('a');
    await runtime.remove('a');
    await expect(runtime.get('a')).rejects.toBeInstanceOf(NotFoundError);
    expect(runtime.calls.find((c) => c.method === 'stop')).toEqual({
      method: 'stop',
      id: 'a',
      graceMs: 5000,
    });
  });

  it('kills a container that ignores SIGTERM (137) without waiting', async () => {
    await runtime.create(options('s', { stubborn: 'yes' }));
    await runtime.start('s');
    expect((await runtime.stop('s', 60_000)).code).toBe(137);
  });

  it('has the same errors as the real runtime', async () => {
    await runtime.create(options('a'));
    await expect(runtime.create(options('a'))).rejects.toBeInstanceOf(ConflictError);
    await expect(runtime.create({ ...options('b'), image: 'nginx' })).rejects.toThrow(
      'image nginx is not on this node: pull or import it first',
    );
    await expect(runtime.stop('a', 10)).rejects.toBeInstanceOf(FailedPreconditionError);
    await runtime.start('a');
    await expect(runtime.remove('a')).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('lists by labels and keeps the caller from changing its records', async () => {
    await runtime.create(options('a', { app: 'web', replica: '1' }));
    await runtime.create(options('b', { app: 'web', replica: '2' }));
    await runtime.create(options('c', { app: 'db' }));
    expect((await runtime.list({ app: 'web' })).map((c) => c.id)).toEqual(['a', 'b']);
    expect((await runtime.list()).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    const [listed] = await runtime.list({ replica: '1' });
    if (listed !== undefined) listed.labels.app = 'changed';
    expect((await runtime.get('a')).labels.app).toBe('web');
    expect(runtime.createdWith('c').labels).toEqual({ app: 'db' });
  });

  it('fails the next matching call once, as told', async () => {
    await runtime.create(options('a'));
    runtime.failNext('start', new UnavailableError('containerd went away'), 'a');
    await expect(runtime.start('a')).rejects.toThrow('containerd went away');
    await expect(runtime.start('a')).resolves.toBeGreaterThan(0);
  });

  it('holds calls until the test releases them', async () => {
    await runtime.create(options('a'));
    const release = runtime.hold('start');
    let started = false;
    const starting = runtime.start('a').then(() => {
      started = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(false);
    release();
    await starting;
    expect(started).toBe(true);
  });

  it('reports starts, exits and OOM kills to every subscriber until it aborts', async () => {
    const subscription = new AbortController();
    const seen: RuntimeEvent[] = [];
    const collecting = (async () => {
      for await (const event of runtime.events(subscription.signal)) seen.push(event);
    })();
    await runtime.create(options('a'));
    const pid = await runtime.start('a');
    clock = 1500;
    runtime.exit('a', 2);
    await runtime.start('a');
    runtime.oom('a');
    await new Promise((resolve) => setImmediate(resolve));
    subscription.abort();
    await collecting;
    expect(seen).toEqual([
      { type: 'start', id: 'a', pid },
      { type: 'exit', id: 'a', code: 2, atMs: 1500 },
      { type: 'start', id: 'a', pid: pid + 1 },
      { type: 'oom', id: 'a' },
      { type: 'exit', id: 'a', code: 137, atMs: 1500 },
    ]);
    expect(await runtime.get('a')).toMatchObject({ state: 'stopped', exitCode: 137 });
  });
});
