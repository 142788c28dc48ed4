import { InvalidInputError } from '../errors';

/**
 * Image references normalised as Docker and containerd do (github.com/distribution/reference,
 * `ParseNormalizedNamed` + `TagNameOnly`):
 *
 *   reference  := name [":" tag] ["@" digest]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]          host: DNS name, IPv4 or [IPv6]
 *   path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex
 *
 * `nginx` is docker.io/library/nginx:latest; `user/app` is docker.io/user/app:latest.
 */
export class ImageReference {
  constructor(
    readonly domain: string,
    readonly path: string,
    readonly tag?: string,
    /** When set, fetches go by digest; the tag is kept for the image record's name. */
    readonly digest?: string,
  ) {}

  /** domain/path, e.g. docker.io/library/nginx. */
  get repository(): string {
    return `${this.domain}/${this.path}`;
  }

  /** What to ask the registry's manifests endpoint for. */
  get target(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  toString(): string {
    const tag = this.tag === undefined ? '' : `:${this.tag}`;
    const digest = this.digest === undefined ? '' : `@${this.digest}`;
    return `${this.repository}${tag}${digest}`;
  }
}

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`,
);
const TAG = /^\w[\w.-]{0,127}$/;
const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const BARE_ID = /^[a-f0-9]{64}$/;

/** Parses and normalises `ref`; throws InvalidInputError naming the reference and the problem. */
export function parseReference(ref: string): ImageReference {
  const fail = (problem: string): never => {
    throw new InvalidInputError(`invalid image reference "${ref}": ${problem}`);
  };
  if (ref === '') fail('it is empty');
  if (ref.length > 1024) fail('it is longer than 1024 characters');
  if (BARE_ID.test(ref)) fail('a bare 64-hex image ID is not a reference; use name@sha256:<hex>');

  const at = ref.indexOf('@');
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(problem);
  }
  const nameAndTag = at === -1 ? ref : ref.slice(0, at);
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) {
    fail(
      `tag "${tag}" is not letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-")`,
    );
  }

  const { domain, path } = splitDomain(name);
  if (!DOMAIN.test(domain)) fail(`"${domain}" is not a registry host[:port]`);
  if (path === '') fail('the repository name is empty');
  for (const component of path.split('/')) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) fail('repository names must be lowercase');
    fail(`"${component}" is not a valid name component (lowercase letters, digits, ".", "_", "-")`);
  }
  if (domain.length + 1 + path.length > MAX_NAME_LENGTH) {
    fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const defaultTag = tag === undefined && digest === undefined ? DEFAULT_TAG : tag;
  return new ImageReference(domain, path, defaultTag, digest);
}

/**
 * Docker's rule: the first component is a domain when it has "." or ":", is "localhost", or has
 * upper case (which no path component may have); otherwise the name lives on Docker Hub, where
 * single-component names are official images under library/.
 */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = name.slice(0, slash);
  const isDomain =
    slash !== -1 &&
    (first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase());
  let domain = isDomain ? first : DOCKER_HUB;
  const path = isDomain ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DOCKER_HUB) domain = DOCKER_HUB;
  const official = domain === DOCKER_HUB && path !== '' && !path.includes('/');
  return { domain, path: official ? `library/${path}` : path };
}

/** Undefined when `digest` is algorithm:hex of a supported algorithm, else what is wrong. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (colon === -1 || !ALGORITHM.test(algorithm)) {
    return `digest "${digest}" is not algorithm:hex (e.g. sha256:<64 hex digits>)`;
  }
  const length = HEX_LENGTH[algorithm];
  if (length === undefined) return `digest algorithm "${algorithm}" is not supported`;
  if (!new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    return `a ${algorithm} digest is ${length} lowercase hex digits`;
  }
  return undefined;
}

/** The host to talk to for a reference's domain (Docker Hub's API lives elsewhere). */
export function registryHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}
