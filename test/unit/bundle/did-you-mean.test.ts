import { didYouMean, editDistance } from '../../../src/bundle/did-you-mean';

const TOP = ['version', 'name', 'image', 'ports', 'replicas', 'healthcheck', 'stop_timeout'];

describe('didYouMean', () => {
  it.each([
    ['replica', 'replicas'],
    ['Name', 'name'],
    ['health_check', 'healthcheck'],
    ['stopTimeout', 'stop_timeout'],
    ['imgae', 'image'],
    ['verison', 'version'],
  ])('suggests %s -> %s', (typo, expected) => {
    expect(didYouMean(typo, TOP)).toBe(expected);
  });

  it('suggests nothing for an unrelated name', () => {
    expect(didYouMean('frobnicate', TOP)).toBeUndefined();
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['a', '', 1],
    ['kitten', 'sitting', 3],
    ['replica', 'replicas', 1],
  ])('%j to %j is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});
