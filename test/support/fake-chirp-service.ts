import { Server } from '@grpc/grpc-js';
import { toStatus } from '../../src/rpc/status';
import type { BudgieError } from '../../src/errors';
import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  ChirpServiceService,
  type ChirpRequest,
  type ChirpResponse,
  type JoinAppRequest,
  type JoinAppResponse,
} from '../../src/gen/budgie/v1/chirp';
import { listenOnUnixSocket, type UnixServer } from './unix-server';

/**
 * A stub agent for `budgie chirp` and `ps --all-nodes` tests: serves budgie.v1 ChirpService on a
 * unix socket in a temp dir, records requests, answers with `response`, or fails with `failure`;
 * JoinApp streams `joinEvents`, then fails with `joinFailure` when set.
 */
export class FakeChirpService {
  readonly requests: ChirpRequest[] = [];
  response: ChirpResponse = { clustered: true, replicas: [], unreachable: [] };
  failure: BudgieError | undefined;
  readonly joinRequests: JoinAppRequest[] = [];
  /** What JoinApp streams, then it fails with `joinFailure` if set. */
  joinEvents: JoinAppResponse[] = [];
  joinFailure: BudgieError | undefined;

  private listening: UnixServer | undefined;

  get socket(): string {
    if (this.listening === undefined) throw new Error('not started');
    return this.listening.socket;
  }

  static async start(): Promise<FakeChirpService> {
    const server = new Server();
    const fake = new FakeChirpService();
    server.addService(ChirpServiceService, {
      chirp: (
        call: { request: ChirpRequest },
        done: (err: Partial<ReturnType<typeof toStatus>> | null, res?: ChirpResponse) => void,
      ) => {
        fake.requests.push(call.request);
        if (fake.failure) done(toStatus(fake.failure));
        else done(null, fake.response);
      },
      joinApp: (call: ServerWritableStream<JoinAppRequest, JoinAppResponse>) => {
        fake.joinRequests.push(call.request);
        for (const event of fake.joinEvents) call.write(event);
        if (fake.joinFailure) call.emit('error', toStatus(fake.joinFailure));
        else call.end();
      },
    });
    fake.listening = await listenOnUnixSocket(server, 'budgie-fake-chirp-');
    return fake;
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
  }
}
