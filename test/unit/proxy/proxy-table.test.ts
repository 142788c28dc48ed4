import net from 'node:net';
import { silentLogger } from '../../../src/log';
import { ProxyTable } from '../../../src/proxy';
import { LOCALHOST, echoServer, roundTrip, tcpServer } from './net-helpers';

async function freePort(): Promise<number> {
  const s = await tcpServer('probe', () => undefined);
  await s.close();
  return s.port;
}

describe('ProxyTable', () => {
  it('starts one proxy per port, updates its backends, refuses other owners, unpublishes', async () => {
    const [a, b] = await Promise.all([echoServer('a'), echoServer('b')]);
    const table = new ProxyTable({ log: silentLogger() });
    try {
      const port = await freePort();
      const published = { owner: 'web', protocol: 'tcp' as const, port, host: LOCALHOST };
      await table.publish({ ...published, backends: [{ id: 'a', host: LOCALHOST, port: a.port }] });
      expect(await roundTrip(port)).toBe('a:hello');

      const again = await table.publish({
        ...published,
        backends: [{ id: 'b', host: LOCALHOST, port: b.port }],
      });
      expect(again).toBe(table.get('tcp', port));
      expect(await roundTrip(port)).toBe('b:hello');
      expect(table.stats()).toHaveLength(1);

      await expect(table.publish({ ...published, owner: 'db', backends: [] })).rejects.toThrow(
        `port ${port}/tcp is already published by app "web"`,
      );

      await table.unpublish('tcp', port, 0);
      expect(table.get('tcp', port)).toBeUndefined();
      const probe = net.connect(port, LOCALHOST);
      await expect(
        new Promise((resolve, reject) => probe.once('connect', resolve).once('error', reject)),
      ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await table.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('forgets a port whose bind failed, so a later publish can retry', async () => {
    const taken = await tcpServer('taken', () => undefined);
    const table = new ProxyTable({ log: silentLogger() });
    const p = { owner: 'web', protocol: 'tcp' as const, port: taken.port, host: LOCALHOST };
    await expect(table.publish({ ...p, backends: [] })).rejects.toMatchObject({ kind: 'conflict' });
    expect(table.get('tcp', taken.port)).toBeUndefined();
    await taken.close();
    await table.publish({ ...p, backends: [] });
    expect(table.stats()[0]).toMatchObject({ listening: true, port: taken.port });
    await table.close();
  });
});
