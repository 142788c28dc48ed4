import { RestartBackoff, STABLE_AFTER_MS } from '../../../src/orchestrator/restart-backoff';

describe('RestartBackoff', () => {
  it('waits nothing at first, then doubles from 0.5 s up to 30 s', () => {
    const b = new RestartBackoff();
    expect(b.remainingMs(1000)).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      b.failed(1000);
      waits.push(b.remainingMs(1000));
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(b.remainingMs(31_000)).toBe(0);
  });

  it('forgets failures once a replica has served long enough, or on reset', () => {
    const b = new RestartBackoff();
    b.failed(0);
    b.served(0, STABLE_AFTER_MS - 1);
    expect(b.remainingMs(0)).toBe(500);
    b.served(undefined, 1_000_000);
    expect(b.remainingMs(0)).toBe(500);
    b.served(0, STABLE_AFTER_MS);
    expect(b.remainingMs(0)).toBe(0);
    b.failed(0);
    b.reset();
    expect(b.remainingMs(0)).toBe(0);
  });
});
