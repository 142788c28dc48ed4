import type { RuntimeEvent } from '../runtime/containers';
import type { Envelope } from './api';
import { filterLiteral } from './container-records';
import { decodeEvent } from './event-decode';
import { timestampMs } from './wellknown';

/** The task topics the runtime reports: exits, starts and OOM kills. */
const TASK_TOPICS = ['/tasks/exit', '/tasks/start', '/tasks/oom'] as const;

/** containerd filters for those topics in one namespace (separate filters are alternatives). */
export function taskEventFilters(namespace: string): string[] {
  return TASK_TOPICS.map(
    (topic) => `namespace==${filterLiteral(namespace)},topic==${filterLiteral(topic)}`,
  );
}

/** An envelope as a runtime event; undefined for other topics and for exec'd processes. */
export function runtimeEvent(envelope: Envelope): RuntimeEvent | undefined {
  const decoded = decodeEvent(envelope);
  switch (decoded?.topic) {
    case '/tasks/exit': {
      const { containerId, id, exitStatus, exitedAt } = decoded.event;
      // Exits of exec'd processes carry their exec ID; only the init process ends the container.
      if (id !== containerId) return undefined;
      const atMs = exitedAt === undefined ? decoded.timestampMs : timestampMs(exitedAt);
      return { type: 'exit', id: containerId, code: exitStatus, atMs };
    }
    case '/tasks/start':
      return { type: 'start', id: decoded.event.containerId, pid: decoded.event.pid };
    case '/tasks/oom':
      return { type: 'oom', id: decoded.event.containerId };
    default:
      return undefined;
  }
}
