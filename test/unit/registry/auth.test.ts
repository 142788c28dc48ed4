import http from 'node:http';
import { PermissionDeniedError, UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { RegistryClient, type RegistryClientOptions } from '../../../src/registry';
import { addImage } from './fake-images';
import { FakeRegistry, type FakeRegistryOptions } from './fake-registry';

const AMD64 = { os: 'linux', architecture: 'amd64' };

describe('registry authentication', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function setup(
    options: FakeRegistryOptions,
    clientOptions: Partial<RegistryClientOptions> = {},
  ) {
    const registry = await FakeRegistry.start(options);
    const client = new RegistryClient({ logger: silentLogger(), ...clientOptions });
    cleanup.push(
      () => registry.stop(),
      () => {
        client.close();
      },
    );
    const image = addImage(registry, 'team/app', 'latest', AMD64);
    return { registry, client, image, ref: `${registry.host}/team/app` };
  }

  it('gets an anonymous token once and reuses it for the scope', async () => {
    const { registry, client, image, ref } = await setup({ auth: 'bearer' });
    await client.resolve(ref, { platform: AMD64 });
    await client.fetchBlob(ref, {
      digest: image.layers[0]!.digest,
      size: image.layers[0]!.bytes.length,
    });
    expect(registry.tokensIssued).toBe(1);
    const unauthenticated = registry.requests.filter(
      (r) => r.path.startsWith('/v2/') && r.authorization === undefined,
    );
    expect(unauthenticated).toHaveLength(1);
    const tokenRequest = registry.requests.find((r) => r.path === '/token');
    expect(tokenRequest?.authorization).toBeUndefined();
  });

  it('asks for a token per repository scope', async () => {
    const { registry, client, ref } = await setup({ auth: 'bearer' });
    addImage(registry, 'other', 'latest', AMD64);
    await client.resolve(ref, { platform: AMD64 });
    await client.resolve(`${registry.host}/other`, { platform: AMD64 });
    expect(registry.tokensIssued).toBe(2);
  });

  it('shares one token fetch between concurrent requests', async () => {
    const { registry, client, image, ref } = await setup({ auth: 'bearer' });
    await client.resolve(ref, { platform: AMD64 });
    registry.revokeTokens();
    const fetches = image.layers.map(async (l) => {
      const stream = await client.fetchBlob(ref, { digest: l.digest, size: l.bytes.length });
      stream.resume();
    });
    await Promise.all(fetches);
    expect(registry.tokensIssued).toBe(2);
  });

  it('fetches a new token when the cached one expires', async () => {
    let now = 1_000_000;
    const { registry, client, ref } = await setup(
      { auth: 'bearer', tokenExpiresIn: 60 },
      { now: () => now },
    );
    await client.resolve(ref, { platform: AMD64 });
    await client.resolve(ref, { platform: AMD64 });
    expect(registry.tokensIssued).toBe(1);
    now += 60_000;
    await client.resolve(ref, { platform: AMD64 });
    expect(registry.tokensIssued).toBe(2);
  });

  it('gets a fresh token when the registry stops accepting the cached one', async () => {
    const { registry, client, ref } = await setup({ auth: 'bearer' });
    await client.resolve(ref, { platform: AMD64 });
    registry.revokeTokens();
    await client.resolve(ref, { platform: AMD64 });
    expect(registry.tokensIssued).toBe(2);
  });

  it('sends credentials to the token server', async () => {
    const { registry, client, ref } = await setup(
      { auth: 'bearer', users: { alice: 's3cret' } },
      {
        credentials: (host) =>
          host.startsWith('127.0.0.1') ? { username: 'alice', password: 's3cret' } : undefined,
      },
    );
    await client.resolve(ref, { platform: AMD64 });
    const tokenRequest = registry.requests.find((r) => r.path === '/token');
    expect(tokenRequest?.authorization).toBe(
      `Basic ${Buffer.from('alice:s3cret').toString('base64')}`,
    );
  });

  it('says when the token server refuses the credentials', async () => {
    const { client, ref, registry } = await setup(
      { auth: 'bearer', users: { alice: 's3cret' } },
      { credentials: () => ({ username: 'alice', password: 'wrong' }) },
    );
    const attempt = client.resolve(ref, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(PermissionDeniedError);
    await expect(attempt).rejects.toThrow(
      `registry ${registry.host} refused to authenticate as alice`,
    );
  });

  it('says when credentials are needed and none are configured', async () => {
    const { client, ref, registry } = await setup({ auth: 'bearer', users: { alice: 's3cret' } });
    await expect(client.resolve(ref, { platform: AMD64 })).rejects.toThrow(
      `registry ${registry.host} refused to authenticate without credentials`,
    );
  });

  it('uses basic auth when the registry asks for it', async () => {
    const { client, ref } = await setup(
      { auth: 'basic', users: { bob: 'pw' } },
      { credentials: () => ({ username: 'bob', password: 'pw' }) },
    );
    const resolved = await client.resolve(ref, { platform: AMD64 });
    expect(resolved.layers).toHaveLength(2);
  });

  it('refuses basic auth with wrong credentials', async () => {
    const { client, ref, registry } = await setup(
      { auth: 'basic', users: { bob: 'pw' } },
      { credentials: () => ({ username: 'bob', password: 'nope' }) },
    );
    const attempt = client.resolve(ref, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(PermissionDeniedError);
    await expect(attempt).rejects.toThrow(
      `registry ${registry.host} denied access to image ${registry.host}/team/app:latest as bob`,
    );
  });
});

describe('unreachable registries', () => {
  it('names the host when the connection is refused', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    const client = new RegistryClient({ logger: silentLogger() });
    const attempt = client.resolve(`127.0.0.1:${port}/x:y`, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(UnavailableError);
    await expect(attempt).rejects.toThrow(
      `cannot reach registry 127.0.0.1:${port}: connection refused`,
    );
    client.close();
  });

  it('times out on a registry that never answers', async () => {
    const server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const client = new RegistryClient({ logger: silentLogger(), idleTimeoutMs: 100 });
    const attempt = client.resolve(`127.0.0.1:${port}/x:y`, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(UnavailableError);
    await expect(attempt).rejects.toThrow(`127.0.0.1:${port} did not answer for 100 ms`);
    client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
});
