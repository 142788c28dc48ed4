import { parseSize } from '../../../src/config/size';

it('reads sizes in bytes and binary multiples, and nothing else', () => {
  expect(parseSize('1048576')).toBe(1048576);
  expect(parseSize('512MiB')).toBe(512 * 1024 ** 2);
  expect(parseSize('32G')).toBe(32 * 1024 ** 3);
  expect(parseSize('1.5 gib')).toBe(1.5 * 1024 ** 3);
  for (const bad of ['', 'lots', '-1G', '0', '10 parsecs', '1e99T']) {
    expect(parseSize(bad)).toBeUndefined();
  }
});
