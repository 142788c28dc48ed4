import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { inNetns } from './netns';

/**
 * The hostile-peer kit: processes in a lab namespace that act as a compromised member or a LAN
 * neighbour would, built on the real dist/ code and certificates of the cluster under test.
 * Each finding of issue 12 that needs a peer to misbehave has a lab test that uses one.
 */
const DIST = resolve(__dirname, '..', '..', 'dist');

/** A kit process: what it printed, and a way to wait for a line of it. */
export interface HostileProcess {
  /** Resolves with the output once it contains every one of `lines` (or the process exits). */
  said(lines: readonly string[]): Promise<string>;
  kill(): void;
}

function start(netnsPath: string, script: string, args: readonly string[]): HostileProcess {
  const child = spawn(
    'nsenter',
    [`--net=${netnsPath}`, process.execPath, '-e', script, DIST, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let errors = '';
  let exited = false;
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  child.once('exit', () => {
    exited = true;
    for (const wake of waiters) wake();
  });
  return {
    said: (lines) =>
      new Promise((done) => {
        const check = (): void => {
          if (!exited && !lines.every((l) => out.includes(l))) return;
          waiters.delete(check);
          done(exited ? out + errors : out);
        };
        waiters.add(check);
        check();
      }),
    kill: () => {
      child.kill();
    },
  };
}

/**
 * A member with a certificate of the cluster (minted with the CA key the test read) that says
 * Hello to `target` from `listen` (HOST:PORT in its namespace), then answers that node's
 * heartbeats with a leave of `victim` signed with its own key, not the victim's, and a list of
 * `gossip` made-up members (`made-up-N`, at ports of its own address nobody listens on). Prints
 * a JSON line `{ ready, error }` once its Hello went through.
 */
export function hostileMember(
  netnsPath: string,
  o: {
    listen: string;
    target: string;
    caCertPem: string;
    caKeyPem: string;
    victim: string;
    gossip: number;
  },
): HostileProcess {
  const args = [o.listen, o.target, o.caCertPem, o.caKeyPem, o.victim, String(o.gossip)];
  return start(netnsPath, HOSTILE, args);
}

/**
 * A LAN neighbour advertising `count` made-up nodes that claim the cluster's (public) id from
 * `address`; prints "ready" once they are out, and "saw NAME" for each real node it hears.
 */
export function advertFlood(
  netnsPath: string,
  o: { address: string; caCertPem: string; count: number },
): HostileProcess {
  return start(netnsPath, FLOOD, [o.address, o.caCertPem, String(o.count)]);
}

export interface FetchAnswer {
  path: string;
  /** The gRPC status code (0: the stream ended well). */
  code: number;
  literalBytes: number;
  gone: boolean;
  /** The same path asked of FetchFiles: its status code, bytes, and the file's status. */
  whole: { code: number; bytes: number; status?: number };
}

export interface ForgedAnswers {
  fetches: FetchAnswer[];
  /** The status code of one FetchFiles for more paths than it takes (65). */
  tooMany: number;
}

/**
 * What a member gets when it asks `target`'s SyncService.Fetch, and FetchFiles, for each of
 * `paths` of `app`'s volume with its own certificate (what a compromised member could ask), and
 * FetchFiles for too many paths at once.
 */
export async function memberFetches(
  netnsPath: string,
  o: {
    target: string;
    caCertPem: string;
    keyPem: string;
    certPem: string;
    app: string;
    volume: string;
    paths: readonly string[];
  },
): Promise<ForgedAnswers> {
  const out = await inNetns(netnsPath, [
    process.execPath,
    '-e',
    FORGER,
    DIST,
    o.target,
    o.caCertPem,
    o.keyPem,
    o.certPem,
    JSON.stringify(o.paths),
    o.app,
    o.volume,
  ]);
  return JSON.parse(out) as ForgedAnswers;
}

const FLOOD = `
const [dist, address, caPem, count] = process.argv.slice(1);
const d = require(dist + '/discovery/index.js');
const log = require(dist + '/log.js').silentLogger();
const ids = require(dist + '/trust/ids.js');
const { X509Certificate, randomBytes } = require('node:crypto');
(async () => {
  const clusterId = ids.clusterIdOf(new X509Certificate(caPem).raw);
  const transport = await d.openMulticastTransport({ interfaceAddress: address, log });
  const browser = new d.MdnsBrowser(transport, { log });
  browser.on('found', (peer) => process.stdout.write('saw ' + peer.name + '\\n'));
  browser.start();
  for (let i = 0; i < Number(count); i++) {
    const advert = { nodeId: randomBytes(32).toString('hex'), clusterId, name: 'fake-' + i, version: d.PROTOCOL_VERSION };
    await new d.MdnsAdvertiser(transport, { advert, port: 20000 + i, addresses: () => [address], ttlSeconds: 120, log }).start();
  }
  process.stdout.write('ready\\n');
})().catch((err) => { process.stdout.write('failed ' + String(err) + '\\n'); process.exit(1); });`;

const HOSTILE = `
const [dist, self, target, caCertPem, caKeyPem, victim, gossip] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { createPrivateKey, sign, X509Certificate } = require('node:crypto');
const peer = require(dist + '/gen/budgie/peer/v1/peer.js');
const nc = require(dist + '/trust/node-cert.js');
const ids = require(dist + '/trust/ids.js');
(async () => {
  const keyPem = await nc.createNodeKey();
  const csrDer = await nc.createCsr(keyPem, 'hostile');
  const signed = await nc.signNodeCertificate({ certPem: caCertPem, keyPem: caKeyPem }, { csrDer, nodeName: 'hostile', addresses: [self.split(':')[0]], now: Date.now() });
  const clusterId = ids.clusterIdOf(new X509Certificate(caCertPem).raw);
  const statement = Buffer.from('budgie leave\\ncluster ' + clusterId + '\\nnode ' + victim + '\\n');
  const forged = { nodeId: victim, certificate: new X509Certificate(signed.certPem).raw, signature: sign('sha256', statement, createPrivateKey(keyPem)) };
  const members = Array.from({ length: Number(gossip) }, (_, i) => ({ nodeId: i.toString(16).padStart(64, 'd'), nodeName: 'made-up-' + i, address: self.split(':')[0] + ':' + (20000 + i) }));
  const server = new grpc.Server();
  server.addService(peer.MembershipServiceService, {
    hello: (call, done) => done(null, { nodeId: signed.nodeId, nodeName: 'hostile', clusterId, callerNodeId: '', members, left: [forged] }),
    leave: (call, done) => done(null, {}),
    admit: (call, done) => done({ code: grpc.status.UNIMPLEMENTED, details: 'no' }),
  });
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(caCertPem), [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(signed.certPem) }], true);
  await new Promise((ok, fail) => server.bindAsync(self, creds, (err) => (err ? fail(err) : ok())));
  const client = new peer.MembershipServiceClient(target, grpc.credentials.createSsl(Buffer.from(caCertPem), Buffer.from(keyPem), Buffer.from(signed.certPem), { checkServerIdentity: () => undefined }));
  client.hello({ address: self }, { deadline: Date.now() + 5000 }, (err) => {
    process.stdout.write(JSON.stringify({ ready: !err, error: err ? err.message : '' }) + '\\n');
  });
})().catch((err) => process.stdout.write(JSON.stringify({ ready: false, error: String(err) }) + '\\n'));`;

const FORGER = `
const [dist, target, ca, key, cert, paths, app, volume] = process.argv.slice(1);
const grpc = require(dist + '/../node_modules/@grpc/grpc-js');
const { SyncServiceClient } = require(dist + '/gen/budgie/peer/v1/sync.js');
const creds = grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(key), Buffer.from(cert), { checkServerIdentity: () => undefined });
const client = new SyncServiceClient(target, creds);
const ask = (path) => new Promise((done) => {
  const answer = { path, code: 0, literalBytes: 0, gone: false };
  const call = client.fetch({ app, target: volume, path, blockSize: 1024, basisSize: 0, blocks: [] }, { deadline: Date.now() + 5000 });
  call.on('data', (m) => {
    if (m.op && m.op.$case === 'literal') answer.literalBytes += m.op.value.length;
    if (m.op && m.op.$case === 'end') answer.gone = m.op.value.gone;
  });
  call.on('error', (err) => { answer.code = err.code; done(answer); });
  call.on('end', () => done(answer));
});
const askWhole = (paths) => new Promise((done) => {
  const answer = { code: 0, bytes: 0 };
  const call = client.fetchFiles({ app, target: volume, paths }, { deadline: Date.now() + 5000 });
  call.on('data', (m) => { answer.bytes += m.data.length; answer.status = m.status; });
  call.on('error', (err) => { answer.code = err.code; done(answer); });
  call.on('end', () => done(answer));
});
(async () => {
  const fetches = [];
  for (const path of JSON.parse(paths)) {
    fetches.push({ ...(await ask(path)), whole: await askWhole([path]) });
  }
  const tooMany = (await askWhole(Array.from({ length: 65 }, (_, i) => 'f' + i))).code;
  process.stdout.write(JSON.stringify({ fetches, tooMany }));
  client.close();
})();`;
