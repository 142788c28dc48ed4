import { InvalidInputError } from '../../../src/errors';
import { decodeTxt, encodeTxt, PROTOCOL_VERSION, type Advert } from '../../../src/discovery';

const advert: Advert = {
  nodeId: 'a1b2c3d4e5f60718',
  clusterId: 'c0ffee00c0ffee00',
  name: 'kitchen-pi',
  version: PROTOCOL_VERSION,
};
const txt = (...strings: string[]) => strings.map((s) => Buffer.from(s));

describe('encodeTxt', () => {
  it('writes one key=value string per field', () => {
    expect(encodeTxt(advert).map(String)).toEqual([
      'id=a1b2c3d4e5f60718',
      'name=kitchen-pi',
      'v=1',
      'cid=c0ffee00c0ffee00',
    ]);
  });

  it('leaves cid out when the node is in no cluster', () => {
    expect(encodeTxt({ ...advert, clusterId: undefined }).map(String)).toEqual([
      'id=a1b2c3d4e5f60718',
      'name=kitchen-pi',
      'v=1',
    ]);
  });

  it.each([
    [{ nodeId: 'SHOUTING0000' }, /node id "SHOUTING0000"/],
    [{ nodeId: 'short' }, /node id/],
    [{ clusterId: 'has space 000' }, /cluster id/],
    [{ name: '' }, /node name ""/],
    [{ name: 'x'.repeat(64) }, /node name/],
    [{ name: 'bell\u0007' }, /node name/],
    [{ version: 0 }, /protocol version 0/],
    [{ version: 1.5 }, /protocol version 1.5/],
  ])('refuses %j with a message naming the field', (change, message) => {
    const encode = () => encodeTxt({ ...advert, ...change });
    expect(encode).toThrow(InvalidInputError);
    expect(encode).toThrow(message);
  });

  it('allows names with non-ASCII letters up to 63 bytes', () => {
    expect(() => encodeTxt({ ...advert, name: 'küche' })).not.toThrow();
  });
});

describe('decodeTxt', () => {
  it('reads back what encodeTxt wrote, with or without a cluster', () => {
    expect(decodeTxt(encodeTxt(advert))).toEqual({ ok: true, advert });
    const solo = { ...advert, clusterId: undefined };
    expect(decodeTxt(encodeTxt(solo))).toEqual({ ok: true, advert: solo });
  });

  it('treats an empty cid as no cluster', () => {
    const decoded = decodeTxt(txt('id=a1b2c3d4e5f60718', 'name=n', 'v=1', 'cid='));
    expect(decoded).toEqual({ ok: true, advert: { ...advert, name: 'n', clusterId: undefined } });
  });

  it('ignores unknown keys and boolean attributes, reads keys case-insensitively', () => {
    const decoded = decodeTxt(
      txt('ID=a1b2c3d4e5f60718', 'Name=n', 'v=1', 'future=x', 'flag', '=odd'),
    );
    expect(decoded.ok).toBe(true);
  });

  it('keeps the first of a repeated key (RFC 6763 §6.4)', () => {
    const decoded = decodeTxt(txt('id=a1b2c3d4e5f60718', 'name=first', 'name=second', 'v=1'));
    expect(decoded.ok && decoded.advert.name).toBe('first');
  });

  it('keeps = signs inside values', () => {
    const decoded = decodeTxt(txt('id=a1b2c3d4e5f60718', 'name=a=b', 'v=1'));
    expect(decoded.ok && decoded.advert.name).toBe('a=b');
  });

  it.each([
    [txt('name=n', 'v=1'), 'TXT lacks id'],
    [txt(), 'TXT lacks id, name, v'],
    [txt('id=a1b2c3d4e5f60718', 'name=n', 'v=one'), 'TXT v="one" is not a version'],
    [txt('id=a1b2c3d4e5f60718', 'name=n', 'v=01'), 'TXT v="01" is not a version'],
    [txt('id=../../etc', 'name=n', 'v=1'), 'TXT node id "../../etc": expected 8-64 of [0-9a-z]'],
    [txt('id=a1b2c3d4e5f60718', 'name=', 'v=1'), expect.stringContaining('node name ""')],
    [txt('id=a1b2c3d4e5f60718', 'name=n', 'v=1', 'cid=NOPE'), expect.stringContaining('cluster')],
    [[Buffer.from([0x69, 0x64, 0x3d, 0xff, 0xfe])], expect.stringContaining('TXT')],
  ])('reports a bad advert instead of throwing (%#)', (strings, problem) => {
    expect(decodeTxt(strings)).toEqual({ ok: false, problem });
  });
});
