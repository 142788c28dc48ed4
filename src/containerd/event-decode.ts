import type { Envelope } from '../gen/containerd/services/events/v1/events';
import {
  ContainerCreate,
  ContainerDelete,
  ContainerUpdate,
} from '../gen/containerd/events/container';
import {
  TaskCreate,
  TaskDelete,
  TaskExit,
  TaskOOM,
  TaskStart,
} from '../gen/containerd/events/task';
import {
  ImageCreate,
  ImageDelete,
  ImageUpdate,
} from '../gen/containerd/services/images/v1/image_events';
import { timestampMs } from './wellknown';

/** The events Budgie acts on, decoded from Envelope.event by topic. */
export type ContainerdEventPayload =
  | { topic: '/tasks/create'; event: TaskCreate }
  | { topic: '/tasks/start'; event: TaskStart }
  | { topic: '/tasks/exit'; event: TaskExit }
  | { topic: '/tasks/delete'; event: TaskDelete }
  | { topic: '/tasks/oom'; event: TaskOOM }
  | { topic: '/containers/create'; event: ContainerCreate }
  | { topic: '/containers/update'; event: ContainerUpdate }
  | { topic: '/containers/delete'; event: ContainerDelete }
  | { topic: '/images/create'; event: ImageCreate }
  | { topic: '/images/update'; event: ImageUpdate }
  | { topic: '/images/delete'; event: ImageDelete };

export type ContainerdEvent = ContainerdEventPayload & { namespace: string; timestampMs: number };

/** Decodes an envelope; undefined for topics Budgie does not act on or an envelope without event. */
export function decodeEvent(envelope: Envelope): ContainerdEvent | undefined {
  const payload = decodePayload(envelope);
  if (payload === undefined) return undefined;
  return {
    ...payload,
    namespace: envelope.namespace,
    timestampMs: timestampMs(envelope.timestamp),
  };
}

function decodePayload(envelope: Envelope): ContainerdEventPayload | undefined {
  const value = envelope.event?.value;
  if (value === undefined) return undefined;
  switch (envelope.topic) {
    case '/tasks/create':
      return { topic: envelope.topic, event: TaskCreate.decode(value) };
    case '/tasks/start':
      return { topic: envelope.topic, event: TaskStart.decode(value) };
    case '/tasks/exit':
      return { topic: envelope.topic, event: TaskExit.decode(value) };
    case '/tasks/delete':
      return { topic: envelope.topic, event: TaskDelete.decode(value) };
    case '/tasks/oom':
      return { topic: envelope.topic, event: TaskOOM.decode(value) };
    case '/containers/create':
      return { topic: envelope.topic, event: ContainerCreate.decode(value) };
    case '/containers/update':
      return { topic: envelope.topic, event: ContainerUpdate.decode(value) };
    case '/containers/delete':
      return { topic: envelope.topic, event: ContainerDelete.decode(value) };
    case '/images/create':
      return { topic: envelope.topic, event: ImageCreate.decode(value) };
    case '/images/update':
      return { topic: envelope.topic, event: ImageUpdate.decode(value) };
    case '/images/delete':
      return { topic: envelope.topic, event: ImageDelete.decode(value) };
    default:
      return undefined;
  }
}
