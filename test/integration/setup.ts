// Integration tests start real containerd, registries and agents: give them time (per test).
jest.setTimeout(120_000);
