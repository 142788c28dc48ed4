import { Server, ServerCredentials } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A gRPC server on a unix socket in a fresh temp dir, as the agent serves its local API. */
export interface UnixServer {
  server: Server;
  socket: string;
  /** Shuts the server down and removes the temp dir. */
  stop(): Promise<void>;
}

/** Binds `server` (services already added) to `<temp dir>/budgie.sock`. */
export async function listenOnUnixSocket(server: Server, prefix: string): Promise<UnixServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const socket = join(dir, 'budgie.sock');
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  return {
    server,
    socket,
    stop: async () => {
      server.forceShutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
