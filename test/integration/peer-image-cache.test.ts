import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import { ImageCacheClient, imageCacheService, type ImageCache } from '../../src/images';
import { memberServer } from '../../src/membership';
import { PeerChannel, type PeerServer } from '../../src/peer';
import { ClusterIdentity, type NodeIdentity } from '../../src/trust';
import { joinClientCredentials, PEER_CHANNEL_OPTIONS } from '../../src/trust/tls';
import { InvalidInputError, NotFoundError } from '../../src/errors';
import { ImageCacheServiceClient } from '../../src/gen/budgie/peer/v1/images';
import { silentLogger } from '../../src/log';

/**
 * The peer ImageCacheService over real mutual TLS on 127.0.0.1: a member learns which blobs the
 * node holds and what its image records point at; callers without this cluster's certificate
 * learn neither.
 */
const HELD = `sha256:${'a'.repeat(64)}`;
const MISSING = `sha256:${'b'.repeat(64)}`;
const IMAGE = '127.0.0.1:5000/team/app:1';
const TARGET = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'c'.repeat(64)}`,
  size: 512,
};

const cache: ImageCache = {
  hasBlobs: (digests) => Promise.resolve(digests.filter((d) => d === HELD)),
  target: (name) =>
    name === IMAGE ? Promise.resolve(TARGET) : Promise.reject(new NotFoundError(`no ${name}`)),
};

let root: string;
let server: PeerServer;
let address: string;
let member: NodeIdentity;
let other: NodeIdentity;
let caPem: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'budgie-peer-image-cache-'));
  const first = new ClusterIdentity({ stateDir: join(root, 'a') });
  const { identity, token } = await first.init({ nodeName: 'a', addresses: ['127.0.0.1'] });
  caPem = identity.caCertPem;
  const current = () => first.current();
  server = memberServer({
    identity: current,
    log: silentLogger(),
    services: [imageCacheService(current, cache, silentLogger())],
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

const dial = () =>
  ((channel) =>
    Object.assign(new ImageCacheClient(channel), {
      close: () => {
        channel.close();
      },
    }))(new PeerChannel(member, { host: '127.0.0.1', port: Number(address.split(':')[1]) }));

it('tells a member which blobs it holds, and refuses what is not a digest', async () => {
  const client = dial();
  await expect(client.hasBlobs([MISSING, HELD])).resolves.toEqual({ present: [HELD] });
  await expect(client.hasBlobs(['sha256:../../etc'])).rejects.toThrow(
    new InvalidInputError('digests[0]: expected sha256:<64 hex>, got "sha256:../../etc"'),
  );
  client.close();
});

it('tells a member what an image record points at, NotFoundError when it has none', async () => {
  const client = dial();
  await expect(client.lookupImage(IMAGE)).resolves.toEqual(TARGET);
  await expect(client.lookupImage(`${IMAGE}0`)).rejects.toThrow(NotFoundError);
  client.close();
});

/** HasBlobs and LookupImage with the given credentials: the status of each refusal. */
async function strangerCodes(creds: ChannelCredentials): Promise<{ has: number; lookup: number }> {
  const client = new ImageCacheServiceClient(address, creds, PEER_CHANNEL_OPTIONS);
  const code = (start: (done: (err: { code: number } | null) => void) => void) =>
    new Promise<number>((resolve) => {
      start((err) => {
        resolve(err?.code ?? status.OK);
      });
    });
  const has = await code((done) => client.hasBlobs({ digests: [HELD] }, new Metadata(), done));
  const lookup = await code((done) => client.lookupImage({ name: IMAGE }, new Metadata(), done));
  client.close();
  return { has, lookup };
}

it('refuses a caller without a certificate: UNAUTHENTICATED for both calls', async () => {
  expect(await strangerCodes(joinClientCredentials(caPem, address))).toEqual({
    has: status.UNAUTHENTICATED,
    lookup: status.UNAUTHENTICATED,
  });
});

it('refuses a caller with a node certificate of another cluster', async () => {
  const creds = credentials.createSsl(
    Buffer.from(caPem),
    Buffer.from(other.nodeKeyPem),
    Buffer.from(other.nodeCertPem),
    { checkServerIdentity: () => undefined },
  );
  const codes = await strangerCodes(creds);
  expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(codes.has);
  expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(codes.lookup);
});
