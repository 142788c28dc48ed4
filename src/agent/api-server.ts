import { chmod, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { ConflictError, UnavailableError, messageOf } from '../errors';
import type { ServiceBinding } from '../rpc/handlers';

/** Where the .proto files are at run time: proto/ at the package root, beside dist/ and src/. */
const PROTO_ROOT = join(__dirname, '..', '..', 'proto');
const API_PROTOS = [
  'budgie/v1/node.proto',
  'budgie/v1/images.proto',
  'budgie/v1/apps.proto',
  'budgie/v1/cluster.proto',
  'budgie/v1/chirp.proto',
];

/**
 * The local API: budgie.v1 services on a unix socket (mode 0660: root and the socket's group),
 * with gRPC server reflection and the standard health service so that `grpcurl -unix` works.
 */
export class ApiServer {
  private readonly server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });

  constructor(
    private readonly socket: string,
    services: readonly ServiceBinding[],
  ) {
    for (const s of services) this.server.addService(s.definition, s.implementation);
    this.health.addToServer(this.server);
    const definitions = loadSync([...API_PROTOS.map((p) => join(PROTO_ROOT, p)), healthProtoPath], {
      includeDirs: [PROTO_ROOT],
    });
    new ReflectionService(definitions).addToServer(this.server);
  }

  /**
   * Listens at the socket path. The socket is bound in a private directory (0700) and given its
   * mode there, then moved into place: under a loose umask a socket bound at its final path is
   * open to everyone until the chmod.
   */
  async start(): Promise<void> {
    const dir = dirname(this.socket);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await removeStaleSocket(this.socket);
    // mkdtemp makes the directory 0700.
    const staging = await mkdtemp(join(dir, '.budgie-sock-'));
    try {
      const bound = join(staging, 'budgie.sock');
      await new Promise<void>((resolve, reject) => {
        this.server.bindAsync(`unix://${bound}`, ServerCredentials.createInsecure(), (err) => {
          if (err) reject(new UnavailableError(`cannot listen on ${this.socket}: ${err.message}`));
          else resolve();
        });
      });
      await chmod(bound, 0o660);
      await rename(bound, this.socket);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  setServing(serving: boolean): void {
    this.health.setStatus('', serving ? 'SERVING' : 'NOT_SERVING');
  }

  /** Stops taking calls, lets running ones finish for up to `graceMs`, then cuts them. */
  async stop(graceMs: number): Promise<void> {
    this.setServing(false);
    const graceful = new Promise<void>((resolve) => {
      this.server.tryShutdown(() => {
        resolve();
      });
    });
    const timer = setTimeout(() => {
      this.server.forceShutdown();
    }, graceMs);
    await graceful;
    clearTimeout(timer);
    await rm(this.socket, { force: true });
  }
}

/**
 * A socket file left by an agent that died can be replaced; one that another agent still answers
 * on cannot: two agents on one namespace would fight over the same containers.
 */
async function removeStaleSocket(socket: string): Promise<void> {
  const exists = await stat(socket).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => {
      resolve(false);
    });
  });
  if (alive) {
    throw new ConflictError(`another agent already listens on ${socket}; stop it or use --socket`);
  }
  await rm(socket, { force: true }).catch((err: unknown) => {
    throw new UnavailableError(`cannot remove stale socket ${socket}: ${messageOf(err)}`);
  });
}
