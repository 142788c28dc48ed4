import { credentials, Metadata } from '@grpc/grpc-js';
import { UnavailableError } from '../errors';
import { SyncServiceClient, type SyncStatusResponse } from '../gen/budgie/v1/sync';
import { errorMapper, unary, type ErrorMapper } from '../rpc/calls';

const DEADLINE_MS = 10_000;

/** The CLI's way to the agent's SyncService (budgie.v1 over the agent's unix socket). */
export class SyncStatusClient {
  private readonly sync: SyncServiceClient;
  private readonly mapError: ErrorMapper;

  constructor(readonly socket: string) {
    this.sync = new SyncServiceClient(`unix://${socket}`, credentials.createInsecure());
    this.mapError = errorMapper(
      () =>
        new UnavailableError(
          `no Budgie agent answers at ${socket}: start one with 'budgie agent' (as root), ` +
            `or point --socket or BUDGIE_SOCKET at a running one`,
        ),
    );
  }

  status(app: string): Promise<SyncStatusResponse> {
    return unary(this.mapError, (done) =>
      this.sync.status({ app }, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, done),
    );
  }

  close(): void {
    this.sync.close();
  }
}
