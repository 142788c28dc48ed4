import {
  Server,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { toStatus } from '../../src/rpc/status';
import type { BudgieError } from '../../src/errors';
import {
  AppServiceService,
  Health,
  ReplicaState,
  type AppServiceServer,
  type LogsRequest,
  type LogsResponse,
  type RemoveReplicasRequest,
  type RemoveReplicasResponse,
  type Replica,
  type RunAppRequest,
  type RunAppResponse,
  type ScaleAppRequest,
  type StopAppRequest,
  type StopAppResponse,
} from '../../src/gen/budgie/v1/apps';
import {
  ImageServiceService,
  type ImageServiceServer,
  type ImportImageRequest,
  type ImportImageResponse,
} from '../../src/gen/budgie/v1/images';
import { listenOnUnixSocket, type UnixServer } from './unix-server';

type Method =
  'runApp' | 'listReplicas' | 'stopApp' | 'removeReplicas' | 'scaleApp' | 'logs' | 'importImage';

/**
 * A stub agent for CLI tests: serves budgie.v1 AppService (and ImageService.ImportImage) on a
 * unix socket in a temp dir, records every request, answers with what the test put in its fields,
 * and fails a method with a Budgie error (as the real server would map it) when told to.
 */
export class FakeAppService {
  /** Method names in call order, to check that an import comes before the run. */
  readonly calls: Method[] = [];
  readonly runRequests: RunAppRequest[] = [];
  readonly listRequests: { all: boolean; app: string }[] = [];
  readonly stopRequests: StopAppRequest[] = [];
  readonly removeRequests: RemoveReplicasRequest[] = [];
  readonly scaleRequests: ScaleAppRequest[] = [];
  readonly logsRequests: LogsRequest[] = [];
  readonly imports: { fileName: string; bytes: number }[] = [];
  /** Methods whose held-open stream the client cancelled (Ctrl-C). */
  readonly cancelled: Method[] = [];

  runEvents: RunAppResponse[] = [];
  replicas: Replica[] = [];
  stopResponse: StopAppResponse = { stoppedIds: [], app: '', unreachable: [] };
  removeResponse: RemoveReplicasResponse = { removedIds: [], app: '' };
  /** Log chunks; with `follow`, the stream then stays open until the client cancels it. */
  logChunks: LogsResponse[] = [];
  importedName = 'docker.io/library/imported:latest';
  readonly failures: Partial<Record<Method, BudgieError>> = {};

  private listening: UnixServer | undefined;

  get socket(): string {
    if (this.listening === undefined) throw new Error('not started');
    return this.listening.socket;
  }

  static async start(): Promise<FakeAppService> {
    const server = new Server();
    const fake = new FakeAppService();
    server.addService(AppServiceService, fake.appService());
    server.addService(ImageServiceService, fake.imageService());
    fake.listening = await listenOnUnixSocket(server, 'budgie-fake-apps-');
    return fake;
  }

  async stop(): Promise<void> {
    await this.listening?.stop();
  }

  private appService(): AppServiceServer {
    return {
      runApp: (call: ServerWritableStream<RunAppRequest, RunAppResponse>) => {
        this.runRequests.push(call.request);
        this.stream('runApp', call, this.runEvents);
      },
      listReplicas: (call, done) => {
        this.listRequests.push(call.request);
        this.answer('listReplicas', call, done, () => ({ replicas: this.replicas }));
      },
      stopApp: (call, done) => {
        this.stopRequests.push(call.request);
        this.answer('stopApp', call, done, () => this.stopResponse);
      },
      removeReplicas: (call, done) => {
        this.removeRequests.push(call.request);
        this.answer('removeReplicas', call, done, () => this.removeResponse);
      },
      scaleApp: (call, done) => {
        this.scaleRequests.push(call.request);
        this.answer('scaleApp', call, done, () => ({ replicas: call.request.replicas }));
      },
      logs: (call: ServerWritableStream<LogsRequest, LogsResponse>) => {
        this.logsRequests.push(call.request);
        this.stream('logs', call, this.logChunks, call.request.follow);
      },
    };
  }

  private imageService(): ImageServiceServer {
    const unimplemented = (_call: unknown, done: sendUnaryData<never>) => {
      done({ code: status.UNIMPLEMENTED, details: 'not in the fake' });
    };
    return {
      pullImage: (call) => {
        call.destroy(new Error('not in the fake'));
      },
      listImages: unimplemented,
      removeImage: unimplemented,
      importImage: (call) => {
        this.calls.push('importImage');
        const received = { fileName: '', bytes: 0 };
        call.on('data', (req: ImportImageRequest) => {
          if (received.fileName === '') received.fileName = req.fileName;
          received.bytes += req.data.length;
        });
        call.on('end', () => {
          this.imports.push(received);
          const failure = this.failures.importImage;
          if (failure) {
            call.emit('error', toStatus(failure));
            return;
          }
          const events: ImportImageResponse[] = [
            { event: { $case: 'phase', value: `importing ${received.fileName}` } },
            {
              event: {
                $case: 'done',
                value: {
                  name: this.importedName,
                  digest: `sha256:${'c'.repeat(64)}`,
                  size: received.bytes,
                  platform: 'linux/amd64',
                  createdUnixMs: 0,
                },
              },
            },
          ];
          for (const ev of events) call.write(ev);
          call.end();
        });
      },
    };
  }

  private answer<Req, Res>(
    method: Method,
    _call: ServerUnaryCall<Req, Res>,
    done: sendUnaryData<Res>,
    value: () => Res,
  ): void {
    this.calls.push(method);
    const failure = this.failures[method];
    if (failure) done(toStatus(failure));
    else done(null, value());
  }

  private stream<Req, Res>(
    method: Method,
    call: ServerWritableStream<Req, Res>,
    events: Res[],
    holdOpen = false,
  ): void {
    this.calls.push(method);
    const failure = this.failures[method];
    if (failure) {
      call.emit('error', toStatus(failure));
      return;
    }
    for (const ev of events) call.write(ev);
    if (holdOpen) call.once('cancelled', () => this.cancelled.push(method));
    else call.end();
  }
}

/** A replica with every field set to something plain; override what the test looks at. */
export function replica(overrides: Partial<Replica> = {}): Replica {
  return {
    id: '3f2a9c1b7d0e'.padEnd(64, '0'),
    app: 'webapp',
    image: 'docker.io/library/nginx:alpine',
    state: ReplicaState.REPLICA_STATE_RUNNING,
    exitCode: 0,
    createdUnixMs: 0,
    startedUnixMs: 0,
    finishedUnixMs: 0,
    health: Health.HEALTH_NONE,
    healthDetail: '',
    ports: [],
    node: 'node-a',
    ip: '',
    ...overrides,
  };
}
