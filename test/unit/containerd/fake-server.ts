import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

export interface FakeContainerd {
  socket: string;
  stop(): Promise<void>;
}

/** A gRPC server on a unix socket in a temp dir, serving fake containerd services. */
export async function startFakeContainerd(
  services: [ServiceDefinition, UntypedServiceImplementation][],
): Promise<FakeContainerd> {
  const dir = await mkdtemp(join(tmpdir(), 'budgie-fake-ctd-'));
  const socket = join(dir, 'containerd.sock');
  const server = new Server();
  for (const [definition, implementation] of services)
    server.addService(definition, implementation);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  return {
    socket,
    stop: async () => {
      server.forceShutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
