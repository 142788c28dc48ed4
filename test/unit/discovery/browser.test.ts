import { Writable } from 'node:stream';
import winston from 'winston';
import {
  MdnsAdvertiser,
  MdnsBrowser,
  PROTOCOL_VERSION,
  SERVICE_TYPE,
  encodeTxt,
  type MdnsPeer,
} from '../../../src/discovery';
import type { DnsRecord } from '../../../src/discovery';
import { silentLogger } from '../../../src/log';
import { FakeMdnsNetwork, ManualClock, settle } from '../../support/fakes/mdns';

const TTL = 10;
const id = (n: number) => `${n}`.repeat(16);

function capturingLogger() {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done) {
      entries.push(info);
      done();
    },
  });
  return {
    log: winston.createLogger({
      level: 'debug',
      transports: [new winston.transports.Stream({ stream })],
    }),
    entries,
  };
}

function setup() {
  const network = new FakeMdnsNetwork();
  const clock = new ClockedNetwork(network, new ManualClock());
  return clock;
}

type Event = [kind: 'found' | 'updated' | 'lost', name: string, peer: MdnsPeer];

/** Nodes on one fake link, each with an advertiser and a browser, sharing a manual clock. */
class ClockedNetwork {
  readonly logged = capturingLogger();
  constructor(
    readonly network: FakeMdnsNetwork,
    readonly clock: ManualClock,
  ) {}

  async node(n: number, options: { addresses?: string[]; clusterId?: string } = {}) {
    const address = `10.195.0.${n}`;
    const transport = this.network.transport(address);
    const advertiser = new MdnsAdvertiser(transport, {
      advert: {
        nodeId: id(n),
        clusterId: options.clusterId,
        name: `node-${n}`,
        version: PROTOCOL_VERSION,
      },
      port: 7447,
      addresses: () => options.addresses ?? [address],
      ttlSeconds: TTL,
      log: silentLogger(),
      clock: this.clock,
    });
    const browser = new MdnsBrowser(transport, {
      selfNodeId: id(n),
      log: this.logged.log,
      clock: this.clock,
    });
    const events: Event[] = [];
    browser.on('found', (p) => events.push(['found', p.name, p]));
    browser.on('updated', (p) => events.push(['updated', p.name, p]));
    browser.on('lost', (p) => events.push(['lost', p.name, p]));
    browser.start();
    await advertiser.start();
    await settle();
    return {
      transport,
      advertiser,
      browser,
      events,
      kinds: () => events.map(([k, name]) => `${k} ${name}`),
    };
  }
}

describe('MdnsAdvertiser and MdnsBrowser on a fake link', () => {
  it('each node finds the others with their advert, and not itself', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2, { clusterId: 'c0ffee00c0ffee00' });
    await net.clock.advance(2000);
    expect(a.kinds()).toEqual(['found node-2']);
    expect(b.kinds()).toEqual(['found node-1']);
    expect(a.browser.peers()).toEqual([
      {
        source: 'mdns',
        key: id(2),
        nodeId: id(2),
        clusterId: 'c0ffee00c0ffee00',
        name: 'node-2',
        version: PROTOCOL_VERSION,
        addresses: ['10.195.0.2'],
        port: 7447,
      },
    ]);
    expect(b.browser.peers()[0]?.clusterId).toBeUndefined();
  });

  it('a browser started after the announcements finds nodes by asking', async () => {
    const net = setup();
    const a = await net.node(1);
    await net.clock.advance(5000); // a's announcements are long gone
    const late = new MdnsBrowser(net.network.transport('10.195.0.99'), {
      log: silentLogger(),
      clock: net.clock,
    });
    late.start();
    await settle();
    expect(late.peers().map((p) => p.name)).toEqual(['node-1']);
    await late.close();
    await a.advertiser.close();
  });

  it('announces a change at once and browsers report it as updated, once', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2);
    await b.advertiser.update({ clusterId: 'c0ffee00c0ffee00' });
    await settle();
    expect(a.kinds()).toEqual(['found node-2', 'updated node-2']);
    expect(a.events[1]?.[2].clusterId).toBe('c0ffee00c0ffee00');
    await net.clock.advance(3 * TTL * 1000); // refreshes of the same advert are no news
    expect(a.kinds()).toEqual(['found node-2', 'updated node-2']);
  });

  it('refuses a bad update and keeps advertising the old advert', async () => {
    const net = setup();
    const a = await net.node(1);
    await expect(a.advertiser.update({ clusterId: 'NOT AN ID' })).rejects.toThrow(
      'cluster id "NOT AN ID"',
    );
    expect(a.advertiser.current.clusterId).toBeUndefined();
  });

  it('reports lost on a goodbye: every record again with TTL 0', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2);
    await b.advertiser.close();
    await settle();
    expect(a.kinds()).toEqual(['found node-2', 'lost node-2']);
    const last = net.network.sent.at(-1);
    expect(last?.kind === 'response' && last.answers.map((r) => r.ttl)).toEqual([0, 0, 0, 0]);
    expect(a.browser.peers()).toEqual([]);
  });

  it('reports lost when a node vanishes without goodbye, once its TTL runs out', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2);
    const c = await net.node(3);
    await net.clock.advance(5 * TTL * 1000); // live nodes answer the refresh queries
    expect(a.kinds()).toEqual(['found node-2', 'found node-3']);
    b.transport.connected = false; // SIGKILL, cable out
    await net.clock.advance(TTL * 1000);
    expect(a.kinds()).toEqual(['found node-2', 'found node-3', 'lost node-2']);
    expect(c.kinds()).toEqual(['found node-1', 'found node-2', 'lost node-2']);
  });

  it('re-queries before the TTL runs out, the answers refreshing every browser', async () => {
    const net = setup();
    await net.node(1);
    await net.node(2);
    await net.node(3);
    await net.clock.advance(70_000); // past the continuous-query backoff's first steps
    const start = net.network.sent.length;
    await net.clock.advance(TTL * 1000);
    const queries = net.network.sent.slice(start).filter((p) => p.kind === 'query');
    // Answers are multicast, so the first browser's query at 80% refreshes the others' caches
    // too: a handful of queries per TTL for the whole link, not one per browser per peer.
    expect(queries.length).toBeGreaterThanOrEqual(1);
    expect(queries.length).toBeLessThanOrEqual(3);
  });

  it('finds a node again after it was lost', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2);
    b.transport.connected = false;
    await net.clock.advance(TTL * 1000 + 1);
    b.transport.connected = true;
    await b.advertiser.update({ name: 'node-2b' });
    await settle();
    expect(a.kinds()).toEqual(['found node-2', 'lost node-2', 'found node-2b']);
  });

  it('puts the address the advert came from first, and trusts named addresses', async () => {
    const net = setup();
    const a = await net.node(1);
    await net.node(2, { addresses: ['192.168.9.2', '10.195.0.2'] });
    await net.node(3, { addresses: ['192.168.9.3'] });
    await net.node(4, { addresses: [] });
    expect(Object.fromEntries(a.browser.peers().map((p) => [p.name, p.addresses]))).toEqual({
      'node-2': ['10.195.0.2', '192.168.9.2'],
      'node-3': ['192.168.9.3'],
      'node-4': ['10.195.0.4'],
    });
  });

  it('ignores bad adverts with a debug line, and goes on working', async () => {
    const net = setup();
    const a = await net.node(1);
    const instance = `${id(7)}.${SERVICE_TYPE}`;
    const ptr = (data: string): DnsRecord => ({ name: SERVICE_TYPE, type: 'PTR', ttl: 120, data });
    const srv = (name: string, port = 7447): DnsRecord => ({
      name,
      type: 'SRV',
      ttl: 120,
      data: { port, target: 'h.local' },
    });
    const txt = (name: string, strings: string[]): DnsRecord => ({
      name,
      type: 'TXT',
      ttl: 120,
      data: strings.map((s) => Buffer.from(s)),
    });
    const good = encodeTxt({ nodeId: id(7), clusterId: undefined, name: 'seven', version: 1 }).map(
      String,
    );
    net.network.inject([ptr(instance)], '10.195.0.7'); // no SRV, no TXT
    net.network.inject(
      [ptr(instance), srv(instance), txt(instance, ['id=x', 'v=1'])],
      '10.195.0.7',
    );
    net.network.inject([ptr(instance), srv(instance, 0), txt(instance, good)], '10.195.0.7');
    const other = `${id(8)}.${SERVICE_TYPE}`; // claims node 7's id under another name
    net.network.inject([ptr(other), srv(other), txt(other, good)], '10.195.0.8');
    net.network.inject([{ name: SERVICE_TYPE, type: 'TXT', ttl: 1, data: [] }], '10.195.0.9');
    await settle();
    expect(a.events).toEqual([]);
    const problems = net.logged.entries
      .filter((e) => e.message === 'mDNS advert ignored')
      .map((e) => e.problem);
    expect(problems).toEqual([
      `${instance} from 10.195.0.7: no SRV or TXT record with the PTR`,
      `${instance} from 10.195.0.7: TXT lacks name`,
      `${instance} from 10.195.0.7: bad port 0`,
      `${other} from 10.195.0.8: instance name does not match node id ${id(7)}`,
    ]);
    net.network.inject([ptr(instance), srv(instance), txt(instance, good)], '10.195.0.7');
    await settle();
    expect(a.kinds()).toEqual(['found seven']);
  });

  it('emits nothing after close', async () => {
    const net = setup();
    const a = await net.node(1);
    const b = await net.node(2);
    await a.browser.close();
    await b.advertiser.close();
    await net.clock.advance(3 * TTL * 1000);
    expect(a.kinds()).toEqual(['found node-2']);
  });
});

describe('MdnsAdvertiser answers', () => {
  it('service enumeration, its instance and its host, and nothing else', async () => {
    const net = setup();
    const a = await net.node(1, { clusterId: 'c0ffee00c0ffee00' });
    const asker = net.network.transport('10.195.0.50');
    const replies: DnsRecord[][] = [];
    asker.onResponse((records) => replies.push(records));
    await asker.query([{ name: '_services._dns-sd._udp.local', type: 'PTR' }]);
    await asker.query([{ name: `${id(1).slice(0, 32)}._budgie._tcp.local`, type: 'TXT' }]);
    await asker.query([{ name: `BUDGIE-${id(1)}.local`, type: 'A' }]);
    await asker.query([{ name: '_http._tcp.local', type: 'PTR' }]);
    await settle();
    expect(replies.map((r) => r.map((x) => `${x.type} ${x.name}`))).toEqual([
      ['PTR _services._dns-sd._udp.local'],
      [`TXT ${id(1)}._budgie._tcp.local`],
      [`A budgie-${id(1)}.local`],
    ]);
    await a.advertiser.close();
  });
});
