import { imageReferenceProblem } from '../../../src/bundle/image-reference';

const HEX64 = 'a'.repeat(64);

describe('imageReferenceProblem', () => {
  it.each([
    'nginx',
    'nginx:alpine',
    'library/nginx:1.25.3',
    'docker.io/library/nginx:latest',
    'ghcr.io/owner/repo-name/sub_path:v1.2.3-rc.1',
    '127.0.0.1:5000/a/b:tag',
    'localhost:5000/app',
    'localhost/app',
    '[::1]:5000/app:1',
    'registry.example.com:443/team/app',
    `nginx@sha256:${HEX64}`,
    `nginx:alpine@sha256:${HEX64}`,
    `127.0.0.1:5000/a/b:tag@sha512:${'0'.repeat(128)}`,
    'a__b/c--d/e.f:_tag',
    `repo:${'x'.repeat(128)}`,
  ])('accepts %s', (ref) => {
    expect(imageReferenceProblem(ref)).toBeUndefined();
  });

  it.each([
    ['', 'the repository name is empty'],
    [':tag', 'the repository name is empty'],
    ['Nginx', 'repository names must be lowercase'],
    ['team/App:1', 'repository names must be lowercase'],
    ['nginx:', 'a tag is'],
    ['nginx:-bad', 'a tag is'],
    [`nginx:${'x'.repeat(129)}`, 'a tag is'],
    ['nginx@sha256:abc', 'a sha256 digest is 64 lowercase hex digits'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'a sha256 digest is 64 lowercase hex digits'],
    ['nginx@md5', 'a digest is algorithm:hex'],
    ['nginx@foo:xyz', 'a digest is at least 32 hex digits'],
    ['-nginx', '"-nginx" is not a valid name component'],
    ['a//b', '"" is not a valid name component'],
    ['bad_host.-x:5000/app', 'is not a registry host[:port]'],
    ['host.com:port/app', 'is not a registry host[:port]'],
    ['nginx alpine', 'is not a valid name component'],
    ['a'.repeat(256), 'names are at most 255 characters'],
  ])('refuses %j (%s)', (ref, reason) => {
    expect(imageReferenceProblem(ref)).toContain(reason);
  });
});
