import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { toStatus } from '../../src/api/status';
import type { BudgieError } from '../../src/errors';
import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  ChirpServiceService,
  type ChirpRequest,
  type ChirpResponse,
  type JoinAppRequest,
  type JoinAppResponse,
} from '../../src/gen/budgie/v1/chirp';

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

  private constructor(
    readonly socket: string,
    private readonly dir: string,
    private readonly server: Server,
  ) {}

  static async start(): Promise<FakeChirpService> {
    const dir = await mkdtemp(join(tmpdir(), 'budgie-fake-chirp-'));
    const socket = join(dir, 'budgie.sock');
    const server = new Server();
    const fake = new FakeChirpService(socket, dir, server);
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
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    return fake;
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    await rm(this.dir, { recursive: true, force: true });
  }
}
