import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { MembershipClient, memberServer } from '../../src/membership';
import { PeerChannel, type PeerServer } from '../../src/peer';
import type { HostPort } from '../../src/host-port';
import { ClusterIdentity, parseToken, type NodeIdentity } from '../../src/trust';
import { fetchPinnedCa } from '../../src/trust/fetch-ca';
import { nodeIdOf, nodeUri } from '../../src/trust/ids';
import { signProof } from '../../src/trust/join-proof';
import { createCsr, createNodeKey } from '../../src/trust/node-cert';
import {
  joinClientCredentials,
  PEER_CHANNEL_OPTIONS,
  peerServerCredentials,
} from '../../src/trust/tls';
import { generateKeyPair, privateKeyPem, SIGNING_ALGORITHM, x509 } from '../../src/trust/x509';
import { FailedPreconditionError, PermissionDeniedError, UnavailableError } from '../../src/errors';
import {
  JoinServiceClient,
  JoinServiceService,
  MembershipServiceClient,
  type JoinRequest,
  type JoinResponse,
  type JoinServiceServer,
} from '../../src/gen/budgie/peer/v1/peer';
import { silentLogger } from '../../src/log';

/**
 * Real TLS servers on 127.0.0.1: joining with a token, and every way a non-member is refused
 * (wrong token, replayed proof, spoofed cluster, no certificate, a certificate from elsewhere).
 */
let root: string;
const servers: PeerServer[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'budgie-cluster-join-'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(100)));
  await rm(root, { recursive: true, force: true });
});

function node(name: string): ClusterIdentity {
  return new ClusterIdentity({ stateDir: join(root, name) });
}

async function serve(cluster: ClusterIdentity): Promise<string> {
  const server = memberServer({ identity: () => cluster.current(), log: silentLogger() });
  servers.push(server);
  return `127.0.0.1:${await server.start('127.0.0.1:0')}`;
}

/** A cluster whose first node ("a") serves the peer API. */
async function cluster(name: string) {
  const first = node(`${name}-a`);
  const { identity, token } = await first.init({ nodeName: `${name}-a`, addresses: ['127.0.0.1'] });
  return { first, identity, token, address: await serve(first) };
}

function hello(creds: ChannelCredentials, address: string): Promise<unknown> {
  const client = new MembershipServiceClient(address, creds, PEER_CHANNEL_OPTIONS);
  return new Promise<unknown>((resolve, reject) => {
    client.hello({ address: '' }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

async function refusal(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call was not refused');
}

/** A JoinService that only records what it is sent: the spoofed cluster of the tests. */
function recordingJoinServer(creds: ServerCredentials) {
  const received: string[] = [];
  const server = new Server();
  const implementation: JoinServiceServer = {
    getChallenge: (_call, callback) => {
      received.push('GetChallenge');
      callback(null, { nonce: Buffer.alloc(32) });
    },
    join: (call, callback) => {
      received.push(`Join(proof ${call.request.proof.length} bytes)`);
      callback({ code: status.UNAVAILABLE, details: 'fake' });
    },
  };
  server.addService(JoinServiceService, implementation);
  const start = () =>
    new Promise<string>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', creds, (err, port) => {
        if (err) reject(err);
        else resolve(`127.0.0.1:${port}`);
      });
    });
  return {
    received,
    start,
    stop: () => {
      server.forceShutdown();
    },
  };
}

describe('joining a cluster', () => {
  let a: Awaited<ReturnType<typeof cluster>>;

  beforeAll(async () => {
    a = await cluster('main');
  });

  it('admits a node with a valid token; its certificate then works on the members-only API', async () => {
    const b = node('joiner');
    const { identity, members } = await b.join(a.token, a.address, {
      nodeName: 'joiner',
      addresses: ['127.0.0.1'],
    });
    expect(identity.clusterId).toBe(a.identity.clusterId);
    expect(identity.signer).toBeUndefined();
    expect(identity.addresses).toEqual(['127.0.0.1']);
    expect(members).toEqual([{ nodeId: a.identity.nodeId, nodeName: 'main-a', address: '' }]);
    expect((await stat(join(root, 'joiner', 'cluster', 'node.key'))).mode & 0o777).toBe(0o600);
    await expect(stat(join(root, 'joiner', 'cluster', 'ca.key'))).rejects.toThrow(/ENOENT/);
    expect(await node('joiner').load()).toEqual(identity);

    const [host, port] = a.address.split(':');
    const client = membershipClient(
      identity,
      { host: host!, port: Number(port) },
      a.identity.nodeId,
    );
    await expect(client.hello()).resolves.toEqual({
      nodeId: a.identity.nodeId,
      nodeName: 'main-a',
      clusterId: a.identity.clusterId,
      callerNodeId: identity.nodeId,
      left: [],
      members: [],
    });
    client.close();

    // And the other way round: the joined node serves, the first node dials it by node id.
    const bAddress = await serve(b);
    const [bHost, bPort] = bAddress.split(':');
    const back = membershipClient(
      a.identity,
      { host: bHost!, port: Number(bPort) },
      identity.nodeId,
    );
    await expect(back.hello()).resolves.toMatchObject({ callerNodeId: a.identity.nodeId });
    back.close();
  });

  it('refuses a dial pinned to another node id', async () => {
    const [host, port] = a.address.split(':');
    const client = membershipClient(
      a.identity,
      { host: host!, port: Number(port) },
      'f'.repeat(64),
    );
    await expect(client.hello()).rejects.toThrow(/expected node ffffffffffff, found node/);
    client.close();
  });

  it('refuses a wrong token and writes nothing', async () => {
    const t = parseToken(a.token);
    const [prefix, ca, id] = a.token.split('.');
    const wrong = `${prefix!}.${ca!}.${id!}.${'a'.repeat(52)}`;
    expect(parseToken(wrong).caFingerprint).toEqual(t.caFingerprint);
    const c = node('wrong-token');
    await expect(c.join(wrong, a.address, { nodeName: 'c' })).rejects.toThrow(
      new PermissionDeniedError(
        'join: token refused (it is wrong, or it was rotated: ask a member for the current one)',
      ),
    );
    expect(await c.load()).toBeUndefined();
  });

  it('refuses the old token after rotation and admits with the new one', async () => {
    const r = await cluster('rotating');
    const { token: rotated } = await r.first.token({ rotate: true });
    expect(rotated).not.toBe(r.token);
    expect(await r.first.token()).toEqual({ token: rotated });
    await expect(node('old-token').join(r.token, r.address, { nodeName: 'x' })).rejects.toThrow(
      /token refused/,
    );
    await expect(
      node('new-token').join(rotated, r.address, { nodeName: 'x' }),
    ).resolves.toMatchObject({ identity: { clusterId: r.identity.clusterId } });
  });

  it('admits with a token made with a ttl until it expires, then refuses it and says so', async () => {
    const r = await cluster('expiring');
    const made = await r.first.token({ ttlMs: 60_000 });
    expect(made.expiresAtMs).toBeGreaterThan(Date.now());
    await expect(
      node('in-time').join(made.token, r.address, { nodeName: 'x' }),
    ).resolves.toMatchObject({ identity: { clusterId: r.identity.clusterId } });
    // Already past: made an hour ago with a minute to live.
    const late = await r.first.token({ ttlMs: 60_000, now: Date.now() - 3600_000 });
    const c = node('too-late');
    await expect(c.join(late.token, r.address, { nodeName: 'y' })).rejects.toThrow(
      new PermissionDeniedError(
        `join: this token expired at ${new Date(late.expiresAtMs!).toISOString()}; make a new one on the node that ran init (budgie cluster token --rotate, or --ttl)`,
      ),
    );
    expect(await c.load()).toBeUndefined();
  });

  it('aborts before sending anything to a server of another cluster', async () => {
    const other = await cluster('impostor');
    const fake = recordingJoinServer(peerServerCredentials(other.identity));
    const address = await fake.start();
    try {
      const victim = node('spoofed');
      await expect(victim.join(a.token, address, { nodeName: 'victim' })).rejects.toThrow(
        /is not a member of the cluster this token is for .*nothing was sent to it$/,
      );
      expect(fake.received).toEqual([]);
      expect(await victim.load()).toBeUndefined();
    } finally {
      fake.stop();
    }
  });

  it('aborts before sending a proof to a server that shows the real CA certificate without its key', async () => {
    // The CA certificate is public: an impostor can send it in its chain, with a certificate that
    // names the real CA as issuer. It cannot sign like the CA, so the pinned handshake fails.
    const keys = await generateKeyPair();
    const caCert = new x509.X509Certificate(a.identity.caCertPem);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    const forged = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: [{ CN: ['impostor'] }],
      issuer: caCert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: nodeUri(nodeIdOf(spki)) }]),
      ],
    });
    const creds = ServerCredentials.createSsl(null, [
      {
        private_key: Buffer.from(await privateKeyPem(keys)),
        cert_chain: Buffer.from(`${forged.toString('pem')}\n${a.identity.caCertPem}`),
      },
    ]);
    const fake = recordingJoinServer(creds);
    const address = await fake.start();
    try {
      const [host, port] = address.split(':');
      // The pin step finds the real CA certificate in the chain...
      await expect(
        fetchPinnedCa({ host: host!, port: Number(port) }, parseToken(a.token).caFingerprint),
      ).resolves.toBe(a.identity.caCertPem);
      // ...and the verified connection then refuses the impostor's certificate.
      const err = await refusal(node('copied').join(a.token, address, { nodeName: 'victim' }));
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toMatch(/signature/);
      expect(fake.received).toEqual([]);
    } finally {
      fake.stop();
    }
  });

  it('refuses a replayed proof, with the same nonce or a fresh one', async () => {
    const token = parseToken(a.token);
    const client = new JoinServiceClient(
      a.address,
      joinClientCredentials(a.identity.caCertPem, a.address),
      PEER_CHANNEL_OPTIONS,
    );
    const challenge = () =>
      new Promise<Buffer>((resolve, reject) => {
        client.getChallenge({}, (err, res) => {
          if (err) reject(err);
          else resolve(res.nonce);
        });
      });
    const join = (req: JoinRequest) =>
      new Promise<JoinResponse>((resolve, reject) => {
        client.join(req, new Metadata(), (err, res) => {
          if (err) reject(err);
          else resolve(res);
        });
      });
    const nonce = await challenge();
    const csr = await createCsr(await createNodeKey(), 'sniffed');
    const request: JoinRequest = {
      tokenId: token.id,
      nonce,
      csr,
      proof: signProof(token.secret, token.id, {
        clusterId: a.identity.clusterId,
        tokenId: token.id,
        nonce,
        csrDer: csr,
        nodeName: 'sniffed',
        addresses: [],
      }),
      nodeName: 'sniffed',
      addresses: [],
    };
    await expect(join(request)).resolves.toMatchObject({ caCertificate: expect.any(Buffer) });

    // An eavesdropper who captured that request, sending it again...
    const again = await refusal(join(request));
    expect(again.code).toBe(status.PERMISSION_DENIED);
    expect(again.details).toBe(
      'join: the challenge is unknown, expired or already used; ask for a new one',
    );
    // ...or with a nonce of its own.
    const fresh = await refusal(join({ ...request, nonce: await challenge() }));
    expect(fresh.code).toBe(status.PERMISSION_DENIED);
    expect(fresh.details).toMatch(/^join: token refused/);
    client.close();
  });

  it('does not admit through a member without the CA key', async () => {
    const b = node('relay');
    const { identity } = await b.join(a.token, a.address, { nodeName: 'relay' });
    const address = await serve(b);
    const err = await refusal(node('via-relay').join(a.token, address, { nodeName: 'x' }));
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as Error).message).toMatch(/^join: this member cannot admit nodes/);
    expect(identity.signer).toBeUndefined();
  });

  it('admits through a member without the CA key that forwards to the CA holder', async () => {
    const b = node('forwarder');
    const { identity } = await b.join(a.token, a.address, { nodeName: 'forwarder' });
    const port = Number(a.address.split(':')[1]);
    const toA = membershipClient(identity, { host: '127.0.0.1', port }, a.identity.nodeId);
    const forwarded: string[] = [];
    const server = memberServer({
      identity: () => b.current(),
      log: silentLogger(),
      forwardJoin: (req) => {
        forwarded.push(req.nodeName);
        return toA.admit(req);
      },
    });
    servers.push(server);
    const address = `127.0.0.1:${await server.start('127.0.0.1:0')}`;
    const joined = await node('via-forwarder').join(a.token, address, {
      nodeName: 'via-forwarder',
      addresses: ['127.0.0.1'],
    });
    expect(joined.identity.clusterId).toBe(a.identity.clusterId);
    expect(forwarded).toEqual(['via-forwarder']);
    // The CA holder checks the proof: a wrong token is refused through the forwarder too.
    const parts = a.token.split('.');
    const wrong = [...parts.slice(0, 3), 'a'.repeat(parts[3]!.length)].join('.');
    const err = await refusal(node('wrong-forwarded').join(wrong, address, { nodeName: 'w' }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as Error).message).toMatch(/^join: token refused/);
    // Admit is members-only: B's certificate works, no certificate does not.
    const stranger = new MembershipServiceClient(
      a.address,
      joinClientCredentials(a.identity.caCertPem, a.address),
      PEER_CHANNEL_OPTIONS,
    );
    const refused = await refusal(
      new Promise((resolve, reject) => {
        stranger.admit(
          {
            tokenId: '',
            nonce: Buffer.alloc(0),
            csr: Buffer.alloc(0),
            proof: Buffer.alloc(0),
            nodeName: 'x',
            addresses: [],
          },
          (e, res) => {
            if (e) reject(e);
            else resolve(res);
          },
        );
      }),
    );
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    stranger.close();
    toA.close();
  });
});

describe('the members-only peer API', () => {
  let a: Awaited<ReturnType<typeof cluster>>;
  let other: NodeIdentity;

  beforeAll(async () => {
    a = await cluster('guarded');
    other = (await cluster('elsewhere')).identity;
  });

  const anyServer = { checkServerIdentity: () => undefined };

  it('refuses a caller without a certificate', async () => {
    const err = await refusal(
      hello(joinClientCredentials(a.identity.caCertPem, a.address), a.address),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(
      /^peer API: this call needs a client certificate signed by this cluster's CA/,
    );
  });

  it('refuses a caller with a node certificate from another cluster', async () => {
    const creds = credentials.createSsl(
      Buffer.from(a.identity.caCertPem),
      Buffer.from(other.nodeKeyPem),
      Buffer.from(other.nodeCertPem),
      anyServer,
    );
    const err = await refusal(hello(creds, a.address));
    expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(err.code);
    expect(err.details).toMatch(/^peer API: /);
  });

  it('refuses a caller with a self-signed certificate that claims a node id', async () => {
    const keys = await generateKeyPair();
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: [{ CN: ['intruder'] }],
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: nodeUri(nodeIdOf(spki)) }]),
      ],
    });
    const creds = credentials.createSsl(
      Buffer.from(a.identity.caCertPem),
      Buffer.from(await privateKeyPem(keys)),
      Buffer.from(cert.toString('pem')),
      anyServer,
    );
    const err = await refusal(hello(creds, a.address));
    expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain(err.code);
  });

  it('answers a member', async () => {
    const creds = credentials.createSsl(
      Buffer.from(a.identity.caCertPem),
      Buffer.from(a.identity.nodeKeyPem),
      Buffer.from(a.identity.nodeCertPem),
      anyServer,
    );
    await expect(hello(creds, a.address)).resolves.toMatchObject({
      callerNodeId: a.identity.nodeId,
    });
  });
});

/** A MembershipService client on a channel of its own; `close` closes the channel. */
function membershipClient(identity: NodeIdentity, peer: HostPort, expectedNodeId?: string) {
  const channel = new PeerChannel(identity, peer, expectedNodeId);
  return Object.assign(new MembershipClient(channel), {
    close: () => {
      channel.close();
    },
  });
}
