import type { Envelope } from '../../../src/containerd/api';
import { runtimeEvent, taskEventFilters } from '../../../src/containerd/container-events';
import { TaskCreate, TaskExit, TaskOOM, TaskStart } from '../../../src/gen/containerd/events/task';

function envelope(topic: string, value: Uint8Array): Envelope {
  return {
    namespace: 'budgie',
    topic,
    timestamp: { seconds: 1700000000, nanos: 0 },
    event: { typeUrl: `containerd.events${topic}`, value: Buffer.from(value) },
  };
}

describe('taskEventFilters', () => {
  it('asks for exits, starts and OOM kills in the namespace only', () => {
    expect(taskEventFilters('budgie')).toEqual([
      'namespace=="budgie",topic=="/tasks/exit"',
      'namespace=="budgie",topic=="/tasks/start"',
      'namespace=="budgie",topic=="/tasks/oom"',
    ]);
  });
});

describe('runtimeEvent', () => {
  it('reports the exit of an init process with its status and time', () => {
    const exit = TaskExit.fromPartial({
      containerId: 'c1',
      id: 'c1',
      pid: 42,
      exitStatus: 137,
      exitedAt: { seconds: 1700000001, nanos: 5_000_000 },
    });
    expect(runtimeEvent(envelope('/tasks/exit', TaskExit.encode(exit).finish()))).toEqual({
      type: 'exit',
      id: 'c1',
      code: 137,
      atMs: 1700000001005,
    });
  });

  it("ignores the exit of an exec'd process", () => {
    const exit = TaskExit.fromPartial({ containerId: 'c1', id: 'exec-1', exitStatus: 0 });
    expect(runtimeEvent(envelope('/tasks/exit', TaskExit.encode(exit).finish()))).toBeUndefined();
  });

  it('reports starts with the pid and OOM kills', () => {
    const start = TaskStart.fromPartial({ containerId: 'c1', pid: 42 });
    expect(runtimeEvent(envelope('/tasks/start', TaskStart.encode(start).finish()))).toEqual({
      type: 'start',
      id: 'c1',
      pid: 42,
    });
    const oom = TaskOOM.fromPartial({ containerId: 'c1' });
    expect(runtimeEvent(envelope('/tasks/oom', TaskOOM.encode(oom).finish()))).toEqual({
      type: 'oom',
      id: 'c1',
    });
  });

  it('ignores other topics', () => {
    const created = TaskCreate.fromPartial({ containerId: 'c1' });
    expect(
      runtimeEvent(envelope('/tasks/create', TaskCreate.encode(created).finish())),
    ).toBeUndefined();
  });
});
