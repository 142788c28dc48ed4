import { EventsService, type Envelope } from '../../gen/containerd/services/events/v1/events';
import type { CallOpts, ContainerdConnection } from '../connection';

/** containerd's event bus. */
export class EventsApi {
  constructor(private readonly conn: ContainerdConnection) {}

  /**
   * Events until the signal aborts (or the loop is left). Filters are containerd filter
   * expressions, e.g. `namespace==budgie` or `topic~="^/tasks/"`; any one may match. Note that
   * containerd does not confirm the subscription: events published before the stream is open
   * are missed, so reconcile from a listing after subscribing.
   */
  subscribe(
    filters: string[] = [],
    opts: Omit<CallOpts, 'timeoutMs'> = {},
  ): AsyncGenerator<Envelope> {
    return this.conn.serverStream(EventsService.subscribe, { filters }, opts);
  }
}
