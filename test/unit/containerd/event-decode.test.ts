import { decodeEvent } from '../../../src/containerd/event-decode';
import { TaskExit } from '../../../src/gen/containerd/events/task';
import { ImageCreate } from '../../../src/gen/containerd/services/images/v1/image_events';

describe('decodeEvent', () => {
  it('decodes a task exit by its topic', () => {
    const exit = TaskExit.fromPartial({
      containerId: 'web-1',
      id: 'web-1',
      pid: 42,
      exitStatus: 137,
    });
    const decoded = decodeEvent({
      timestamp: { seconds: 1700000000, nanos: 500_000_000 },
      namespace: 'budgie',
      topic: '/tasks/exit',
      event: {
        typeUrl: 'containerd.events.TaskExit',
        value: Buffer.from(TaskExit.encode(exit).finish()),
      },
    });
    expect(decoded).toEqual({
      topic: '/tasks/exit',
      namespace: 'budgie',
      timestampMs: 1700000000500,
      event: exit,
    });
  });

  it('decodes image events from the images package', () => {
    const created = ImageCreate.fromPartial({ name: 'docker.io/library/nginx:alpine' });
    const decoded = decodeEvent({
      namespace: 'budgie',
      topic: '/images/create',
      event: {
        typeUrl: 'containerd.services.images.v1.ImageCreate',
        value: Buffer.from(ImageCreate.encode(created).finish()),
      },
    });
    expect(decoded?.topic === '/images/create' && decoded.event.name).toBe(
      'docker.io/library/nginx:alpine',
    );
  });

  it('skips topics Budgie does not act on and envelopes without an event', () => {
    const event = { typeUrl: 'containerd.events.SnapshotPrepare', value: Buffer.alloc(0) };
    expect(decodeEvent({ namespace: 'b', topic: '/snapshot/prepare', event })).toBeUndefined();
    expect(decodeEvent({ namespace: 'b', topic: '/tasks/exit' })).toBeUndefined();
  });
});
