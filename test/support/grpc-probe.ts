import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * What `grpcurl` does against an agent, done with grpc-js (Debian has no grpcurl): the standard
 * health check and the reflection service's list of services.
 */
function client(target: string, proto: string, service: string): Client {
  const def = loadSync([require.resolve(proto)], { keepCase: true, enums: String });
  const definition = def[service];
  if (definition === undefined || 'format' in definition) {
    throw new Error(`no service ${service} in ${proto}`);
  }
  const Ctor = makeGenericClientConstructor(definition, service);
  return new Ctor(target, credentials.createInsecure());
}

export function healthStatus(target: string): Promise<string> {
  const c = client(
    target,
    'grpc-health-check/proto/health/v1/health.proto',
    'grpc.health.v1.Health',
  );
  return new Promise((resolve, reject) => {
    const check = (
      c as unknown as Record<
        string,
        (req: object, cb: (e: ServiceError | null, r?: { status: string }) => void) => void
      >
    ).Check;
    check!.call(c, { service: '' }, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res?.status ?? '');
    });
  });
}

export function reflectedServices(target: string): Promise<string[]> {
  const c = client(
    target,
    '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
    'grpc.reflection.v1.ServerReflection',
  );
  type Stream = NodeJS.EventEmitter & { write(m: object): void; end(): void };
  const open = (c as unknown as Record<string, () => Stream>).ServerReflectionInfo;
  return new Promise((resolve, reject) => {
    const call = open!.call(c);
    call.on('data', (res: { list_services_response?: { service: { name: string }[] } }) => {
      resolve((res.list_services_response?.service ?? []).map((s) => s.name).sort());
      call.end();
      c.close();
    });
    call.on('error', reject);
    call.write({ list_services: '' });
  });
}
