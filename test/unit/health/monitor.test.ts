import { HealthMonitor, type HealthState } from '../../../src/health';
import { silentLogger } from '../../../src/log';
import { FakeRequests, FakeTimers, refused, settle } from './fakes';

const URL = 'GET http://10.213.0.5:8080/health';

function setup(retries = 3) {
  const timers = new FakeTimers();
  const requests = new FakeRequests();
  const changes: [HealthState, string][] = [];
  const monitor = new HealthMonitor({
    host: '10.213.0.5',
    port: 8080,
    path: '/health',
    intervalMs: 10_000,
    timeoutMs: 2_000,
    retries,
    onChange: (state, detail) => changes.push([state, detail]),
    log: silentLogger(),
    request: requests.request,
    schedule: timers.schedule,
  });
  /** Answers the current check, then moves to the next one. */
  const round = async (status: number | Error): Promise<void> => {
    requests.answer(status);
    await timers.advance(10_000);
  };
  return { timers, requests, changes, monitor, round };
}

describe('HealthMonitor state machine', () => {
  it('checks at once on start, then every interval after the previous check ends', async () => {
    const { timers, requests, monitor } = setup();
    monitor.start();
    expect(requests.calls).toHaveLength(1);
    expect(requests.calls[0]!.target).toMatchObject({ host: '10.213.0.5', port: 8080 });
    await timers.advance(1_500); // still within the timeout: nothing else starts
    expect(requests.calls).toHaveLength(1);
    requests.answer(200);
    await timers.advance(9_999);
    expect(requests.calls).toHaveLength(1);
    await timers.advance(1);
    expect(requests.calls).toHaveLength(2);
    expect(requests.maxInFlight).toBe(1);
    monitor.stop();
  });

  it('starts in starting and turns healthy on the first success', async () => {
    const { requests, changes, monitor } = setup();
    expect(monitor.state).toBe('starting');
    monitor.start();
    requests.answer(204);
    await settle();
    expect(monitor.state).toBe('healthy');
    expect(changes).toEqual([['healthy', '']]);
    monitor.stop();
  });

  it('counts 3xx as success and 4xx/5xx as failure', async () => {
    const { changes, monitor, round } = setup(1);
    monitor.start();
    await round(302);
    await round(404);
    await round(399);
    await round(500);
    expect(changes).toEqual([
      ['healthy', ''],
      ['unhealthy', `${URL}: HTTP 404`],
      ['healthy', ''],
      ['unhealthy', `${URL}: HTTP 500`],
    ]);
    monitor.stop();
  });

  it('turns unhealthy from starting after `retries` consecutive failures', async () => {
    const { changes, monitor, round } = setup(3);
    monitor.start();
    await round(refused());
    await round(refused());
    expect(monitor.state).toBe('starting');
    expect(monitor.detail).toBe(`${URL}: connection refused`);
    expect(changes).toEqual([]);
    await round(refused());
    expect(monitor.state).toBe('unhealthy');
    expect(changes).toEqual([['unhealthy', `${URL}: connection refused`]]);
    await round(refused());
    expect(changes).toHaveLength(1); // no repeat while it stays unhealthy
    monitor.stop();
  });

  it('resets the failure count on success and recovers from unhealthy', async () => {
    const { changes, monitor, round } = setup(2);
    monitor.start();
    await round(200);
    await round(500);
    await round(200); // one failure, then a success: the count starts again
    await round(500);
    expect(monitor.state).toBe('healthy');
    expect(monitor.detail).toBe(`${URL}: HTTP 500`);
    await round(500);
    expect(monitor.state).toBe('unhealthy');
    await round(200);
    expect(monitor.state).toBe('healthy');
    expect(monitor.detail).toBe('');
    expect(changes.map(([s]) => s)).toEqual(['healthy', 'unhealthy', 'healthy']);
    monitor.stop();
  });

  it('fails a check that outlasts the timeout and aborts its request', async () => {
    const { timers, requests, changes, monitor } = setup(1);
    monitor.start();
    await timers.advance(1_999);
    expect(requests.calls[0]!.signal.aborted).toBe(false);
    await timers.advance(1);
    expect(requests.calls[0]!.signal.aborted).toBe(true);
    expect(changes).toEqual([['unhealthy', `${URL}: timed out after 2s`]]);
    expect(requests.inFlight).toBe(0);
    await timers.advance(10_000);
    expect(requests.calls).toHaveLength(2);
    monitor.stop();
  });

  it('never starts a check while a timed-out request is still settling', async () => {
    const { timers, requests, changes, monitor } = setup(1);
    requests.ignoreAbort = true;
    monitor.start();
    await timers.advance(60_000);
    expect(requests.calls).toHaveLength(1);
    expect(changes).toEqual([]);
    requests.answer(new Error('aborted at last'));
    await settle();
    expect(changes).toEqual([['unhealthy', `${URL}: timed out after 2s`]]);
    await timers.advance(10_000);
    expect(requests.calls).toHaveLength(2);
    expect(requests.maxInFlight).toBe(1);
    monitor.stop();
  });

  it('stop() aborts the running check, cancels the next and silences onChange', async () => {
    const { timers, requests, changes, monitor, round } = setup(1);
    monitor.start();
    await round(200);
    expect(requests.calls).toHaveLength(2);
    monitor.stop();
    expect(requests.calls[1]!.signal.aborted).toBe(true);
    await timers.advance(100_000);
    expect(requests.calls).toHaveLength(2);
    expect(timers.pending).toBe(0);
    expect(changes).toEqual([['healthy', '']]);
  });

  it('stops cleanly when onChange stops it', async () => {
    const timers = new FakeTimers();
    const requests = new FakeRequests();
    const monitor: HealthMonitor = new HealthMonitor({
      host: '127.0.0.1',
      port: 1,
      path: '/',
      intervalMs: 1_000,
      timeoutMs: 500,
      retries: 1,
      onChange: () => {
        monitor.stop();
      },
      log: silentLogger(),
      request: requests.request,
      schedule: timers.schedule,
    });
    monitor.start();
    requests.answer(500);
    await timers.advance(10_000);
    expect(requests.calls).toHaveLength(1);
    expect(timers.pending).toBe(0);
  });
});
