import { memberBlobPeers, type ImageMember } from '../../../src/images/member-peers';
import { NotFoundError, UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const TARGET = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d('f'), size: 300 };

/** A member whose peer client holds `blobs` and `records`, or fails every call. */
function member(
  name: string,
  blobs: string[],
  records: Record<string, typeof TARGET> = {},
  down = false,
): ImageMember {
  return {
    name,
    client: {
      hasBlobs: (digests) =>
        down
          ? Promise.reject(new UnavailableError(`${name} is down`))
          : // A member may answer with more than was asked; only what was asked counts.
            Promise.resolve({ present: [...digests.filter((x) => blobs.includes(x)), d('9')] }),
      lookupImage: (image) => {
        const record = records[image];
        return record === undefined
          ? Promise.reject(new NotFoundError(`no ${image}`))
          : Promise.resolve(record);
      },
      async *readBlob(digest) {
        yield await Promise.resolve(Buffer.from(`${name}:${digest}`));
      },
    },
  };
}

const signal = new AbortController().signal;

describe('memberBlobPeers', () => {
  it('lists the members that hold any of the blobs, each with which ones', async () => {
    const peers = memberBlobPeers(
      () => [member('a', [d('1'), d('2')]), member('b', []), member('c', [d('2')], {}, true)],
      silentLogger(),
    );
    const holders = await peers.holders([d('1'), d('2'), d('3')], signal);
    expect(holders.map((h) => [h.name, [...h.has]])).toEqual([['a', [d('1'), d('2')]]]);
    const chunks: Buffer[] = [];
    for await (const c of holders[0]!.provider.open(d('1'), 0, signal)) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).toString()).toBe(`a:${d('1')}`);
  });

  it("finds a member's record of the exact name, skipping those without one or with a bad one", async () => {
    const bad = { ...TARGET, digest: 'sha256:../x' };
    const peers = memberBlobPeers(
      () => [
        member('a', []),
        member('b', [], { 'r/app:1': bad }),
        member('c', [], { 'r/app:1': TARGET }),
      ],
      silentLogger(),
    );
    const found = await peers.lookup('r/app:1', signal);
    expect(found?.from).toBe('c');
    expect(found?.target).toEqual({ name: 'r/app:1', ...TARGET });
    await expect(peers.lookup('r/app:2', signal)).resolves.toBeUndefined();
  });

  it('outside a cluster there is nobody to ask', async () => {
    const peers = memberBlobPeers(() => [], silentLogger());
    await expect(peers.holders([d('1')], signal)).resolves.toEqual([]);
    await expect(peers.lookup('r/app:1', signal)).resolves.toBeUndefined();
  });
});
