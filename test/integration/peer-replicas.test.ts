import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import { fromReplica, ReplicaClient, replicaService, type ReplicaSource } from '../../src/fleet';
import { memberServer } from '../../src/membership';
import { PeerChannel, type PeerServer } from '../../src/peer';
import { ClusterIdentity, type NodeIdentity } from '../../src/trust';
import { joinClientCredentials, PEER_CHANNEL_OPTIONS } from '../../src/trust/tls';
import { NotFoundError } from '../../src/errors';
import {
  ReplicaServiceClient,
  type AppCount,
  type NodeReplica,
} from '../../src/gen/budgie/peer/v1/peer';
import { silentLogger } from '../../src/log';
import { replica } from '../support/fake-app-service';

/**
 * The peer ReplicaService over real mutual TLS on 127.0.0.1: a member lists replicas and reads
 * (and follows, and cancels) logs; callers without this cluster's certificate get neither.
 */
let root: string;
let server: PeerServer;
let address: string;
let member: NodeIdentity;
let other: NodeIdentity;
let caPem: string;
const followAborted: boolean[] = [];

const REPLICAS: NodeReplica[] = [
  {
    replica: replica({ node: 'a' }),
    addresses: ['127.0.0.1:8080'],
    replicasMin: 1,
    direct: [],
    replicasMax: 2,
  },
];

const COUNTS: AppCount[] = [{ app: 'web', scale: 1, standIns: 0, clusterMin: 1, max: 2, live: 1 }];
/** Targets that Stop reached the source with. */
const stopped: string[] = [];

const source: ReplicaSource = {
  // Domain replicas in, the same wire messages out: the service translates at the edge.
  list: (all) =>
    all
      ? REPLICAS.map((r) => ({
          replica: fromReplica(r.replica!, 'a', 'test'),
          nodeId: '',
          addresses: r.addresses,
          replicasMin: r.replicasMin,
          replicasMax: r.replicasMax,
          direct: r.direct,
        }))
      : [],
  counts: () => COUNTS,
  stop: (target) => {
    stopped.push(target);
    return Promise.resolve({ stoppedIds: [target] });
  },
  logs: async (req, send, signal) => {
    if (req.target !== REPLICAS[0]!.replica!.id)
      throw new NotFoundError(`no replica ${req.target}`);
    await send({ replicaId: req.target, data: Buffer.from('first\n') });
    if (!req.follow) return;
    // Following: held open until the caller cancels.
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        followAborted.push(true);
        resolve();
      });
    });
  },
  getApp: (target) => Promise.reject(new NotFoundError(`no app ${target}`)),
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'budgie-peer-replicas-'));
  const first = new ClusterIdentity({ stateDir: join(root, 'a') });
  const { identity, token } = await first.init({ nodeName: 'a', addresses: ['127.0.0.1'] });
  caPem = identity.caCertPem;
  const current = () => first.current();
  server = memberServer({
    identity: current,
    log: silentLogger(),
    services: [replicaService(current, source, silentLogger())],
  });
  address = `127.0.0.1:${await server.start('127.0.0.1:0')}`;
  const joined = await new ClusterIdentity({ stateDir: join(root, 'b') }).join(token, address, {
    nodeName: 'b',
    addresses: ['127.0.0.1'],
  });
  member = joined.identity;
  const elsewhere = new ClusterIdentity({ stateDir: join(root, 'x') });
  other = (await elsewhere.init({ nodeName: 'x', addresses: ['127.0.0.1'] })).identity;
});

afterAll(async () => {
  await server.stop(100);
  await rm(root, { recursive: true, force: true });
});

/** A ReplicaService client on a channel of its own; `close` closes the channel. */
const dial = () => {
  const channel = new PeerChannel(member, {
    host: '127.0.0.1',
    port: Number(address.split(':')[1]),
  });
  return Object.assign(new ReplicaClient(channel), {
    close: () => {
      channel.close();
    },
  });
};
const asMember = () => ({
  nodeId: 'a'.repeat(64),
  name: 'a',
  address,
  state: 'alive' as const,
  lastSeenMs: 0,
});

it('lists replicas for a member', async () => {
  const client = dial();
  // The wire answer comes back in domain types, checked: the same replicas and counts.
  await expect(client.listing(asMember())).resolves.toEqual({
    nodeId: 'a'.repeat(64),
    nodeName: 'a',
    replicas: REPLICAS.map((r) => ({
      replica: fromReplica(r.replica!, 'a', 'test'),
      nodeId: 'a'.repeat(64),
      addresses: r.addresses,
      replicasMin: r.replicasMin,
      replicasMax: r.replicasMax,
      direct: r.direct,
    })),
    apps: COUNTS,
  });
  client.close();
});

it('stops a target for a member', async () => {
  const client = dial();
  await expect(client.stop('web')).resolves.toEqual({ stoppedIds: ['web'] });
  expect(stopped).toEqual(['web']);
  client.close();
});

it("streams a replica's logs, maps a missing one to NotFoundError, and cancels a follow", async () => {
  const client = dial();
  const id = REPLICAS[0]!.replica!.id;
  const base = { target: id, follow: false, tail: 0, sinceUnixMs: 0 };
  const chunks: string[] = [];
  for await (const c of client.logs(base)) chunks.push(c.data.toString());
  expect(chunks).toEqual(['first\n']);

  const missing = client.logs({ ...base, target: 'nope' });
  await expect(missing.next()).rejects.toThrow(NotFoundError);

  const stop = new AbortController();
  const followed = client.logs({ ...base, follow: true }, stop.signal);
  const step = await followed.next();
  expect(step.done === true ? undefined : step.value.data.toString()).toBe('first\n');
  stop.abort();
  await expect(followed.next()).rejects.toThrow();
  for (let i = 0; i < 50 && followAborted.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(followAborted).toEqual([true]);
  client.close();
});

/** ListReplicas, Logs and Stop with the given credentials: the status of each refusal. */
async function strangerCodes(
  creds: ChannelCredentials,
): Promise<{ list: number; logs: number; stop: number }> {
  const client = new ReplicaServiceClient(address, creds, PEER_CHANNEL_OPTIONS);
  const stop = await new Promise<number>((resolve) => {
    client.stop({ target: 'web' }, new Metadata(), (err) => {
      resolve(err?.code ?? status.OK);
    });
  });
  const list = await new Promise<number>((resolve) => {
    client.listReplicas({ all: true }, new Metadata(), (err) => {
      resolve(err?.code ?? status.OK);
    });
  });
  const logs = await new Promise<number>((resolve) => {
    const call = client.logs({
      target: REPLICAS[0]!.replica!.id,
      follow: false,
      tail: 0,
      sinceUnixMs: 0,
    });
    let got = 0;
    call.on('data', () => (got += 1));
    call.on('error', (err: { code: number }) => {
      resolve(got > 0 ? status.OK : err.code);
    });
    call.on('end', () => {
      resolve(status.OK);
    });
  });
  client.close();
  return { list, logs, stop };
}

it('refuses a caller without a certificate: UNAUTHENTICATED for every call', async () => {
  const before = stopped.length;
  expect(await strangerCodes(joinClientCredentials(caPem, address))).toEqual({
    list: status.UNAUTHENTICATED,
    logs: status.UNAUTHENTICATED,
    stop: status.UNAUTHENTICATED,
  });
  expect(stopped.length).toBe(before);
});

it('refuses a caller with a node certificate of another cluster', async () => {
  const creds = credentials.createSsl(
    Buffer.from(caPem),
    Buffer.from(other.nodeKeyPem),
    Buffer.from(other.nodeCertPem),
    { checkServerIdentity: () => undefined },
  );
  const codes = await strangerCodes(creds);
  expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(codes.list);
  expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(codes.logs);
  expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(codes.stop);
  expect(stopped).toEqual(['web']);
});
