import { TaskStatus, type Container, type Process } from '../../../src/containerd/api';
import {
  containerInfo,
  labelFilters,
  LOG_PATH_LABEL,
  startFailureReason,
} from '../../../src/containerd/container-records';

const container: Container = {
  id: 'c1',
  labels: { 'budgie.app': 'web', [LOG_PATH_LABEL]: '/logs/c1.log' },
  image: 'docker.io/library/nginx:alpine',
  snapshotter: 'overlayfs',
  snapshotKey: 'c1',
  createdAt: { seconds: 1700000000, nanos: 0 },
  extensions: {},
};

function task(status: TaskStatus, more: Partial<Process> = {}): Process {
  return {
    containerId: 'c1',
    id: 'c1',
    pid: 42,
    status,
    stdin: '',
    stdout: '',
    stderr: '',
    terminal: false,
    exitStatus: 0,
    ...more,
  };
}

describe('labelFilters', () => {
  it('matches everything without labels', () => {
    expect(labelFilters()).toEqual([]);
    expect(labelFilters({})).toEqual([]);
  });

  it('requires every label in one filter, with keys and values quoted', () => {
    expect(labelFilters({ 'budgie.app': 'web', 'budgie.replica': '1' })).toEqual([
      'labels."budgie.app"=="web",labels."budgie.replica"=="1"',
    ]);
  });

  it('escapes quotes, commas and backslashes in values', () => {
    expect(labelFilters({ k: 'a"b,c\\d' })).toEqual(['labels."k"=="a\\"b,c\\\\d"']);
  });
});

describe('containerInfo', () => {
  it('describes a container without a task as created, hiding internal labels', () => {
    expect(containerInfo(container, undefined)).toEqual({
      id: 'c1',
      image: 'docker.io/library/nginx:alpine',
      labels: { 'budgie.app': 'web' },
      state: 'created',
      createdAtMs: 1700000000000,
      logPath: '/logs/c1.log',
    });
  });

  it('gives the pid of a running task', () => {
    const info = containerInfo(container, task(TaskStatus.RUNNING));
    expect(info).toMatchObject({ state: 'running', pid: 42 });
    expect(info.exitCode).toBeUndefined();
  });

  it('gives the exit status of a stopped task and no pid', () => {
    const stopped = task(TaskStatus.STOPPED, {
      exitStatus: 137,
      exitedAt: { seconds: 1700000100, nanos: 250_000_000 },
    });
    const info = containerInfo(container, stopped);
    expect(info).toMatchObject({ state: 'stopped', exitCode: 137, exitedAtMs: 1700000100250 });
    expect(info.pid).toBeUndefined();
  });

  it.each([
    [TaskStatus.CREATED, 'created'],
    [TaskStatus.PAUSED, 'paused'],
    [TaskStatus.PAUSING, 'paused'],
    [TaskStatus.UNKNOWN, 'unknown'],
  ])('maps task status %s to %s', (status, state) => {
    expect(containerInfo(container, task(status)).state).toBe(state);
  });

  it('has no log path for containers Budgie did not create', () => {
    const foreign = { ...container, labels: {} };
    expect(containerInfo(foreign, undefined).logPath).toBeUndefined();
  });
});

describe('startFailureReason', () => {
  it("keeps runc's reason and drops containerd's layers", () => {
    const message =
      'containerd Tasks.Create failed: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/nope": stat /nope: no such file or directory: unknown';
    expect(startFailureReason(message)).toBe(
      'exec: "/nope": stat /nope: no such file or directory',
    );
  });

  it('keeps a message it does not recognise', () => {
    expect(startFailureReason('something else')).toBe('something else');
  });
});
