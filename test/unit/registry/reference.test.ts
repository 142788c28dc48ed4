import { InvalidInputError } from '../../../src/errors';
import { parseReference, registryHost } from '../../../src/registry';

const HEX = 'a'.repeat(64);

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:alpine', 'docker.io', 'library/nginx', 'alpine', undefined],
    ['user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['index.docker.io/user/app:1', 'docker.io', 'user/app', '1', undefined],
    ['docker.io/library/nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined],
    ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000', 'a/b', 'tag', undefined],
    ['localhost/a', 'localhost', 'a', 'latest', undefined],
    ['localhost:5000/a', 'localhost:5000', 'a', 'latest', undefined],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', undefined],
    ['ghcr.io/o/r-n/sub_p:v1.2-rc.1', 'ghcr.io', 'o/r-n/sub_p', 'v1.2-rc.1', undefined],
    [
      `registry.example.com/x@sha256:${HEX}`,
      'registry.example.com',
      'x',
      undefined,
      `sha256:${HEX}`,
    ],
    [`nginx:alpine@sha256:${HEX}`, 'docker.io', 'library/nginx', 'alpine', `sha256:${HEX}`],
    ['a__b/c--d/e.f:_tag', 'docker.io', 'a__b/c--d/e.f', '_tag', undefined],
  ])('%s', (ref, domain, path, tag, digest) => {
    const parsed = parseReference(ref);
    expect({
      domain: parsed.domain,
      path: parsed.path,
      tag: parsed.tag,
      digest: parsed.digest,
    }).toEqual({ domain, path, tag, digest });
  });

  it('prints the full normalised name', () => {
    expect(parseReference('nginx:alpine').toString()).toBe('docker.io/library/nginx:alpine');
    expect(parseReference('user/app').toString()).toBe('docker.io/user/app:latest');
    expect(parseReference(`x.io/a:t@sha256:${HEX}`).toString()).toBe(`x.io/a:t@sha256:${HEX}`);
    expect(parseReference(`x.io/a@sha256:${HEX}`).toString()).toBe(`x.io/a@sha256:${HEX}`);
  });

  it('fetches by digest when there is one, else by tag', () => {
    expect(parseReference(`nginx:alpine@sha256:${HEX}`).target).toBe(`sha256:${HEX}`);
    expect(parseReference('nginx:alpine').target).toBe('alpine');
  });

  it.each([
    ['', 'it is empty'],
    [':tag', 'the repository name is empty'],
    ['Nginx', 'repository names must be lowercase'],
    ['team/App:1', 'repository names must be lowercase'],
    ['a/-b', '"-b" is not a valid name component'],
    ['a//b', '"" is not a valid name component'],
    ['nginx:', 'tag "" is not letters'],
    ['nginx:.x', 'tag ".x" is not letters'],
    [`nginx:${'x'.repeat(129)}`, 'is not letters'],
    ['nginx@sha256:abc', 'a sha256 digest is 64 lowercase hex digits'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'a sha256 digest is 64 lowercase hex digits'],
    ['nginx@md5:abcd', 'digest algorithm "md5" is not supported'],
    ['nginx@nocolon', 'is not algorithm:hex'],
    ['bad_host.-x:5000/app', 'is not a registry host[:port]'],
    ['host.com:port/app', 'is not a registry host[:port]'],
    [HEX, 'bare 64-hex image ID'],
    [`x.io/${'a'.repeat(260)}`, 'longer than 255 characters'],
  ])('rejects %j', (ref, problem) => {
    const attempt = () => parseReference(ref);
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(`invalid image reference "${ref}": `);
    expect(attempt).toThrow(problem);
  });
});

describe('registryHost', () => {
  it('sends Docker Hub to its API host and others to themselves', () => {
    expect(registryHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});
