import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { ContainerdClient } from '../../../src/containerd/client';
import { ContainerdRuntime } from '../../../src/containerd/container-runtime';
import { FailedPreconditionError, NotFoundError } from '../../../src/errors';
import {
  ContainersService,
  type GetContainerRequest,
  type GetContainerResponse,
} from '../../../src/gen/containerd/services/containers/v1/containers';
import {
  ImagesService,
  type GetImageRequest,
  type GetImageResponse,
} from '../../../src/gen/containerd/services/images/v1/images';
import {
  TasksService,
  type GetRequest,
  type GetResponse,
  type KillRequest,
  type WaitRequest,
  type WaitResponse,
} from '../../../src/gen/containerd/services/tasks/v1/tasks';
import { Status as TaskStatus } from '../../../src/gen/containerd/types/task/task';
import { silentLogger } from '../../../src/log';
import { startFakeContainerd, type FakeContainerd } from './fake-server';

const ID = 'cd'.repeat(32);

/**
 * A scripted task: what it does on SIGTERM, and the calls the runtime made, in order of arrival.
 * Unit tests of stop's protocol; the real signals and exits are in the integration test.
 */
interface Script {
  task: 'running' | 'stopped' | 'none';
  container: boolean;
  onTerm: 'exit' | 'ignore' | 'already-gone';
  calls: string[];
  waiting: sendUnaryData<WaitResponse>[];
}

describe('ContainerdRuntime on a fake containerd', () => {
  let fake: FakeContainerd;
  let client: ContainerdClient;
  let runtime: ContainerdRuntime;
  let script: Script;

  const notFound = (details: string): Partial<StatusObject> => ({
    code: status.NOT_FOUND,
    details,
    metadata: new Metadata(),
  });

  const exit = (code: number): void => {
    script.task = 'stopped';
    for (const done of script.waiting.splice(0)) {
      done(null, { exitStatus: code, exitedAt: { seconds: 1700000000, nanos: 0 } });
    }
  };

  const tasks = {
    get: (_: ServerUnaryCall<GetRequest, GetResponse>, done: sendUnaryData<GetResponse>) => {
      script.calls.push('get');
      if (script.task === 'none') {
        done(notFound(`task ${ID}: not found`));
        return;
      }
      const stopped = script.task === 'stopped';
      done(null, {
        process: {
          containerId: ID,
          id: ID,
          pid: 42,
          status: stopped ? TaskStatus.STOPPED : TaskStatus.RUNNING,
          stdin: '',
          stdout: '',
          stderr: '',
          terminal: false,
          exitStatus: stopped ? 3 : 0,
          exitedAt: stopped ? { seconds: 1700000000, nanos: 0 } : undefined,
        },
      });
    },
    wait: (_: ServerUnaryCall<WaitRequest, WaitResponse>, done: sendUnaryData<WaitResponse>) => {
      script.calls.push('wait');
      script.waiting.push(done);
    },
    kill: (call: ServerUnaryCall<KillRequest, object>, done: sendUnaryData<object>) => {
      const { signal } = call.request;
      script.calls.push(`kill ${signal}`);
      if (script.onTerm === 'already-gone') {
        // The process ended between the status check and the kill, as containerd reports it.
        setTimeout(() => {
          exit(0);
        }, 10);
        done(notFound('process already finished'));
        return;
      }
      done(null, {});
      if (signal === 9) exit(137);
      else if (script.onTerm === 'exit') exit(143);
    },
  };

  const containers = {
    get: (
      call: ServerUnaryCall<GetContainerRequest, GetContainerResponse>,
      done: sendUnaryData<GetContainerResponse>,
    ) => {
      if (!script.container) {
        done(notFound(`container "${call.request.id}" in namespace "unit": not found`));
        return;
      }
      done(null, {
        container: {
          id: ID,
          labels: {},
          image: 'img',
          snapshotter: 'overlayfs',
          snapshotKey: ID,
          extensions: {},
        },
      });
    },
  };

  const images = {
    get: (
      call: ServerUnaryCall<GetImageRequest, GetImageResponse>,
      done: sendUnaryData<GetImageResponse>,
    ) => {
      done(notFound(`image "${call.request.name}": not found`));
    },
  };

  beforeAll(async () => {
    fake = await startFakeContainerd([
      [TasksService, tasks],
      [ContainersService, containers],
      [ImagesService, images],
    ]);
    client = ContainerdClient.connect({ socket: fake.socket, namespace: 'unit' });
    runtime = new ContainerdRuntime(client, { snapshotter: 'overlayfs', log: silentLogger() });
  });

  afterAll(async () => {
    client.close();
    await fake.stop();
  });

  beforeEach(() => {
    script = { task: 'running', container: true, onTerm: 'exit', calls: [], waiting: [] };
  });

  it('waits before it sends SIGTERM, and returns as soon as the task exits', async () => {
    const started = Date.now();
    expect(await runtime.stop(ID, 60_000)).toEqual({ code: 143, atMs: 1700000000000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(script.calls).toEqual(['get', 'wait', 'kill 15']);
  });

  it('sends SIGKILL once the grace period is over', async () => {
    script.onTerm = 'ignore';
    const started = Date.now();
    expect((await runtime.stop(ID, 150)).code).toBe(137);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(script.calls).toEqual(['get', 'wait', 'kill 15', 'kill 9']);
  });

  it('takes a process that finished before the kill from the pending wait', async () => {
    script.onTerm = 'already-gone';
    expect((await runtime.stop(ID, 60_000)).code).toBe(0);
    expect(script.calls).toEqual(['get', 'wait', 'kill 15']);
  });

  it('reports the recorded exit of a stopped task without signalling', async () => {
    script.task = 'stopped';
    expect(await runtime.stop(ID, 1000)).toEqual({ code: 3, atMs: 1700000000000 });
    expect(script.calls).toEqual(['get']);
  });

  it('refuses to stop a container that never started, and names a missing one', async () => {
    script.task = 'none';
    await expect(runtime.stop(ID, 1000)).rejects.toBeInstanceOf(FailedPreconditionError);
    script.container = false;
    const stop = runtime.stop(ID, 1000);
    await expect(stop).rejects.toBeInstanceOf(NotFoundError);
    await expect(stop).rejects.toThrow(`container ${ID.slice(0, 12)} not found on this node`);
  });

  it('gives up waiting when the caller aborts, before the grace period ends', async () => {
    script.onTerm = 'ignore';
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort(new Error('agent shutting down'));
    }, 50);
    await expect(runtime.stop(ID, 60_000, controller.signal)).rejects.toThrow(
      'agent shutting down',
    );
    expect(script.calls).toEqual(['get', 'wait', 'kill 15']);
  });

  it('refuses to remove a running container', async () => {
    const removal = runtime.remove(ID);
    await expect(removal).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(removal).rejects.toThrow('is running: stop it before removing it');
  });

  it('names an image that is not on this node, without containerd wording', async () => {
    const creation = runtime.create({
      id: ID,
      image: 'docker.io/library/nope:1',
      labels: {},
      environment: [],
      volumes: [],
      logPath: '/tmp/budgie-unit/never.log',
    });
    await expect(creation).rejects.toBeInstanceOf(NotFoundError);
    await expect(creation).rejects.toThrow(
      'image docker.io/library/nope:1 is not on this node: pull or import it first',
    );
  });
});
