import { StaticPeers, type StaticPeer } from '../../../src/discovery';

describe('StaticPeers', () => {
  it('finds each distinct peer once, on start', async () => {
    const peers = StaticPeers.parse(['10.0.0.2:7447', '[FD00::2]:7447', '10.0.0.2:7447']);
    const found: StaticPeer[] = [];
    peers.on('found', (peer) => found.push(peer));
    expect(found).toEqual([]);
    peers.start();
    peers.start();
    expect(found).toEqual([
      { source: 'static', key: '10.0.0.2:7447', addresses: ['10.0.0.2'], port: 7447 },
      { source: 'static', key: '[fd00::2]:7447', addresses: ['fd00::2'], port: 7447 },
    ]);
    expect(peers.peers()).toEqual(found);
    await peers.close();
  });

  it('fails on the first bad argument with its own message', () => {
    expect(() => StaticPeers.parse(['10.0.0.2:7447', 'x:y'])).toThrow('--peer "x:y"');
  });
});
