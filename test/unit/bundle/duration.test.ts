import { formatDuration, parseDuration } from '../../../src/bundle/duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['1h0m1ms', 3_600_001],
    ['24h', 86_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ms });
  });

  it.each([
    ['', 'a number followed by'],
    ['5', 'a number followed by'],
    ['5 s', 'a number followed by'],
    ['-5s', 'a number followed by'],
    ['5sec', 'a number followed by'],
    ['1d', 'a number followed by'],
    ['0s', 'at least 1ms'],
    ['0.1ms', 'at least 1ms'],
    ['25h', 'at most 24h'],
    ['9'.repeat(40) + 's', 'a number followed by'],
  ])('refuses %j', (text, reason) => {
    expect(parseDuration(text)).toEqual({ reason: expect.stringContaining(reason) });
  });
});

describe('formatDuration', () => {
  it.each([
    [1, '1ms'],
    [1000, '1s'],
    [90_000, '1m30s'],
    [3_600_500, '1h500ms'],
  ])('writes %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
