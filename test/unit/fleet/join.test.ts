import {
  joinApp,
  localCopy,
  type ChirpResult,
  type JoinEvent,
  type JoinSources,
  type PeerApp,
} from '../../../src/fleet';
import type { App } from '../../../src/bundle/types';
import { FailedPreconditionError, InvalidInputError, NotFoundError } from '../../../src/errors';
import type { ImageEvent } from '../../../src/runtime/images';
import { app as appOf } from '../orchestrator/harness';
import { placed } from './fixtures';

const IMAGE = {
  name: 'docker.io/library/web:1',
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 500,
};

/** A cluster where node "a" runs `web` (max 3) and this node is "me". */
function world(result: Partial<ChirpResult> = {}, peerApp: PeerApp = { app: web(), image: IMAGE }) {
  const calls: string[] = [];
  const ran: App[] = [];
  const clusterMins: number[] = [];
  const layers: ImageEvent[] = [
    { type: 'layer', digest: 'sha256:l1', size: 10, done: 0, state: 'waiting' },
    { type: 'layer', digest: 'sha256:l2', size: 10, done: 0, state: 'waiting' },
    { type: 'layer', digest: 'sha256:l1', size: 10, done: 10, state: 'exists' },
    { type: 'layer', digest: 'sha256:l2', size: 10, done: 5, state: 'downloading' },
    { type: 'layer', digest: 'sha256:l2', size: 10, done: 10, state: 'downloaded' },
    { type: 'layer', digest: 'sha256:l2', size: 10, done: 10, state: 'unpacked' },
  ];
  const sources: JoinSources = {
    chirp: () =>
      Promise.resolve({
        clustered: true,
        replicas: [placed('a1', 'web', 'a')],
        unreachable: [],
        ...result,
      }),
    selfNodeId: () => 'id-me',
    addressOf: (nodeId) => (nodeId === 'id-a' ? '192.0.2.1:7447' : undefined),
    runsHere: (name) => name === 'here',
    getApp: (peer, target) => {
      calls.push(`getApp ${peer.nodeName} ${peer.address} ${target.slice(0, 2)}`);
      return Promise.resolve(peerApp);
    },
    fetchImage: (peer, image, _signal, onEvent) => {
      calls.push(`fetch ${peer.nodeName} ${image.digest.slice(0, 9)}`);
      layers.forEach(onEvent);
      return Promise.resolve('docker.io/library/web:1');
    },
    volumeDir: (app, index) => `/state/volumes/${app}/${index}`,
    copyVolume: (peer, app, target, dest, _signal, onEvent) => {
      calls.push(`volume ${peer.nodeName} ${app} ${target} -> ${dest}`);
      onEvent({ type: 'opened', hadData: target === '/old' });
      onEvent({ type: 'progress', stats: { files: 1, bytes: 3 } });
      return Promise.resolve({ files: 2, bytes: 5 });
    },
    run: (a, clusterMin) => {
      ran.push(a);
      clusterMins.push(clusterMin);
      return Promise.resolve(['f'.repeat(64)]);
    },
  };
  return { sources, calls, ran, clusterMins };
}

function web(overrides: Partial<App> = {}): App {
  return appOf({
    image: { kind: 'archive', path: '/on/node-a/web.tar' },
    replicas: { min: 1, max: 3 },
    ...overrides,
  });
}

async function join(sources: JoinSources, target: string, volumeMap?: Map<string, string>) {
  const events: JoinEvent[] = [];
  const result = await joinApp(
    sources,
    target,
    new AbortController().signal,
    (e) => events.push(e),
    volumeMap,
  );
  return { result, events };
}

describe('joinApp', () => {
  it('gets the app and image from the member running the named replica, then runs one here', async () => {
    const peerApp = web({ replicas: { min: 2, max: 3 } });
    const { sources, calls, ran, clusterMins } = world({}, { app: peerApp, image: IMAGE });
    const { result, events } = await join(sources, 'a1');
    expect(result).toEqual({ app: 'web', replicaId: 'f'.repeat(64), peerNode: 'a' });
    expect(calls).toEqual(['getApp a 192.0.2.1:7447 a1', 'fetch a sha256:ab']);
    // The image by its name here; replicas.min is this node's own floor, max the cluster's.
    expect(ran).toEqual([
      {
        ...peerApp,
        image: { kind: 'registry', reference: IMAGE.name },
        replicas: { min: 1, max: 3 },
      },
    ]);
    // The peer's min stays the cluster's, for the members that keep it.
    expect(clusterMins).toEqual([2]);
    expect(events.filter((e) => e.type === 'blobs')).toEqual([
      { type: 'blobs', done: 0, total: 1 },
      { type: 'blobs', done: 0, total: 2 },
      { type: 'blobs', done: 1, total: 2 },
      { type: 'blobs', done: 2, total: 2 },
    ]);
    expect(events.flatMap((e) => (e.type === 'phase' ? [e.text] : []))).toEqual([
      'finding a1 in the cluster',
      'fetching app web from a',
      `fetching image ${IMAGE.name} from a`,
      'starting web on this node',
    ]);
  });

  it('joins by app name too', async () => {
    const { sources } = world();
    expect((await join(sources, 'web')).result.app).toBe('web');
  });

  it('refuses past replicas.max cluster-wide (from the chirp), before asking the peer', async () => {
    const replicas = [placed('a1', 'web', 'a'), placed('a2', 'web', 'a'), placed('b1', 'web', 'b')];
    const { sources, calls, ran } = world({ replicas });
    await expect(join(sources, 'a1')).rejects.toThrow(
      new FailedPreconditionError(
        'app web already runs 3 replica(s) in the cluster, its replicas.max of 3: not joining',
      ),
    );
    expect(calls).toEqual([]);
    expect(ran).toEqual([]);
  });

  it("refuses past the peer's app's replicas.max when the listing is older", async () => {
    const replicas = [placed('a1', 'web', 'a'), placed('b1', 'web', 'b')];
    const { sources, calls } = world(
      { replicas },
      { app: web({ replicas: { min: 1, max: 2 } }), image: IMAGE },
    );
    await expect(join(sources, 'a1')).rejects.toThrow(
      /already runs 2 replica\(s\) in the cluster, its replicas.max of 2/,
    );
    expect(calls).toEqual(['getApp a 192.0.2.1:7447 a1']);
  });

  it('refuses past max even where the app already runs', async () => {
    const replicas = [
      placed('a1', 'here', 'a'),
      placed('a2', 'here', 'a'),
      placed('m1', 'here', 'me'),
    ];
    const { sources } = world({ replicas });
    await expect(join(sources, 'a1')).rejects.toThrow(/replicas.max of 3: not joining/);
  });

  it('does not count exited replicas against max', async () => {
    const replicas = [
      placed('a1', 'web', 'a'),
      placed('a2', 'web', 'a', false),
      placed('b1', 'web', 'b', false),
    ];
    const { sources } = world({ replicas });
    expect((await join(sources, 'a1')).result.replicaId).toBe('f'.repeat(64));
  });

  it('says when no member has the target', async () => {
    const { sources } = world();
    await expect(join(sources, 'nothere')).rejects.toThrow(NotFoundError);
  });

  it('refuses outside a cluster', async () => {
    const { sources } = world({ clustered: false });
    await expect(join(sources, 'a1')).rejects.toThrow(/this node is in no cluster/);
  });

  it('refuses an app that already runs here', async () => {
    const { sources } = world({ replicas: [placed('a1', 'here', 'a')] });
    await expect(join(sources, 'a1')).rejects.toThrow(
      "app here already runs on this node: add replicas with 'budgie scale here N'",
    );
  });

  it("does not join this node's own replica", async () => {
    const mine = { ...placed('c1', 'web', 'me'), nodeId: 'id-me' };
    const { sources } = world({ replicas: [mine] });
    await expect(join(sources, 'c1')).rejects.toThrow(NotFoundError);
  });
});

describe('joinApp with volumes', () => {
  it("copies rw volumes into its own dir and mounts them from there; ro ones from the admin's map", async () => {
    const volumes: App['volumes'] = [
      { source: '/srv/web/data', target: '/data', mode: 'rw' },
      { source: '/etc/web', target: '/conf', mode: 'ro' },
      { source: '/srv/web/old', target: '/old', mode: 'rw' },
    ];
    const { sources, calls, ran } = world({}, { app: web({ volumes }), image: IMAGE });
    const { events } = await join(sources, 'web', new Map([['/conf', '/srv/here/conf']]));
    expect(calls.filter((c) => c.startsWith('volume'))).toEqual([
      'volume a web /data -> /state/volumes/web/0',
      'volume a web /old -> /state/volumes/web/2',
    ]);
    expect(ran[0]!.volumes).toEqual([
      { source: '/state/volumes/web/0', target: '/data', mode: 'rw' },
      { source: '/srv/here/conf', target: '/conf', mode: 'ro' },
      { source: '/state/volumes/web/2', target: '/old', mode: 'rw' },
    ]);
    const phases = events.flatMap((e) => (e.type === 'phase' ? [e.text] : []));
    // Said before anything moves: right after the app came.
    expect(phases.slice(1, 4)).toEqual([
      'fetching app web from a',
      'mounting /srv/here/conf of this machine read-only at /conf (--volume-map)',
      'fetching image docker.io/library/web:1 from a',
    ]);
    expect(phases).toContain('copying volume /data from a into /state/volumes/web/0');
    expect(phases).toContain('copying volume /data: 2 files, 5 bytes');
    expect(phases.find((p) => p.startsWith('copying volume /old from'))).toMatch(
      /over the data already in \/state\/volumes\/web\/2 \(a sync round: newer versions win, concurrent changes keep both\)/,
    );
    // The copies come before the start.
    expect(phases.indexOf('copying volume /old: 2 files, 5 bytes')).toBeLessThan(
      phases.indexOf('starting web on this node'),
    );
  });
});

describe('joinApp and host paths', () => {
  it("never mounts a host path a member names: an ro volume without the admin's map is refused before anything moves", async () => {
    // What a hostile member would answer: this node's state dir, with the cluster's CA key.
    const volumes: App['volumes'] = [
      { source: '/var/lib/budgie', target: '/loot', mode: 'ro' },
      { source: '/', target: '/root', mode: 'ro' },
    ];
    const { sources, calls, ran } = world({}, { app: web({ volumes }), image: IMAGE });
    await expect(join(sources, 'web')).rejects.toThrow(
      new FailedPreconditionError(
        "app web mounts host paths of its node read-only at /loot, /root; an app from a member never names host paths here: say which of this machine's with --volume-map /loot=HOSTPATH for each",
      ),
    );
    await expect(join(sources, 'web', new Map([['/loot', '/srv/empty']]))).rejects.toThrow(
      /read-only at \/root;/,
    );
    expect(calls.filter((c) => !c.startsWith('getApp'))).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('refuses a mapping for a path that is not an ro volume of the app', async () => {
    const volumes: App['volumes'] = [{ source: '/srv/web/data', target: '/data', mode: 'rw' }];
    const { sources, ran } = world({}, { app: web({ volumes }), image: IMAGE });
    await expect(join(sources, 'web', new Map([['/data', '/srv/x']]))).rejects.toThrow(
      new InvalidInputError(
        '--volume-map /data: app web has no ro volume there (its ro volumes: none)',
      ),
    );
    expect(ran).toEqual([]);
  });
});

describe('localCopy', () => {
  it('keeps everything but the image source and the replica floor', () => {
    const a = web({ replicas: { min: 0, max: 5 } });
    expect(localCopy(a, 'x:1')).toEqual({
      ...a,
      image: { kind: 'registry', reference: 'x:1' },
      replicas: { min: 1, max: 5 },
    });
  });
});
