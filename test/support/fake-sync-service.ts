import { Server } from '@grpc/grpc-js';
import {
  SyncServiceService,
  type SyncStatusRequest,
  type SyncStatusResponse,
} from '../../src/gen/budgie/v1/sync';
import { toStatus } from '../../src/rpc/status';
import { listenOnUnixSocket, type UnixServer } from './unix-server';

/**
 * A stub agent for `budgie sync` tests: serves budgie.v1 SyncService on a unix socket, records
 * requests and answers with the next of `responses` (the last one again once they run out).
 */
export class FakeSyncService {
  readonly requests: SyncStatusRequest[] = [];
  responses: SyncStatusResponse[] = [{ volumes: [] }];

  private listening: UnixServer | undefined;

  get socket(): string {
    if (this.listening === undefined) throw new Error('not started');
    return this.listening.socket;
  }

  static async start(): Promise<FakeSyncService> {
    const server = new Server();
    const fake = new FakeSyncService();
    server.addService(SyncServiceService, {
      status: (
        call: { request: SyncStatusRequest },
        done: (err: Partial<ReturnType<typeof toStatus>> | null, res?: SyncStatusResponse) => void,
      ) => {
        fake.requests.push(call.request);
        const next = fake.responses.length > 1 ? fake.responses.shift() : fake.responses[0];
        done(null, next);
      },
    });
    fake.listening = await listenOnUnixSocket(server, 'budgie-fake-sync-');
    return fake;
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
  }
}
