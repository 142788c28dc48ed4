/**
 * Syntax of image references, after the distribution reference grammar
 * (github.com/distribution/reference, `regexp.go`):
 *
 *   reference  := name [":" tag] ["@" digest]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]          host: DNS name or [IPv6]
 *   path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex        e.g. sha256:<64 lowercase hex>
 *
 * Only syntax is checked here; resolving `nginx` to `docker.io/library/nginx` is the registry
 * module's job. The first component is a domain only when it looks like one (has `.` or `:`, or is
 * `localhost`), as Docker decides.
 */

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`,
);
const TAG = /^\w[\w.-]{0,127}$/;
const ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_NAME_LENGTH = 255;

/** Undefined when `ref` is a well-formed reference, else a short reason. */
export function imageReferenceProblem(ref: string): string | undefined {
  if (ref.length > 1024) return 'too long';
  const at = ref.indexOf('@');
  const nameAndTag = at === -1 ? ref : ref.slice(0, at);
  if (at !== -1) {
    const problem = digestProblem(ref.slice(at + 1));
    if (problem !== undefined) return problem;
  }
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  if (hasTag && !TAG.test(nameAndTag.slice(colon + 1))) {
    return 'a tag is letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"';
  }
  return nameProblem(name);
}

function nameProblem(name: string): string | undefined {
  if (name === '') return 'the repository name is empty';
  if (name.length > MAX_NAME_LENGTH) return `names are at most ${MAX_NAME_LENGTH} characters`;
  const components = name.split('/');
  const first = components[0] ?? '';
  if (
    components.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    if (!DOMAIN.test(first)) return `"${first}" is not a registry host[:port]`;
    components.shift();
  }
  for (const component of components) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) return 'repository names must be lowercase';
    return `"${component}" is not a valid name component (lowercase letters, digits, ".", "_", "-")`;
  }
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (colon === -1 || !ALGORITHM.test(algorithm)) return 'a digest is algorithm:hex, e.g. sha256:…';
  const length = HEX_LENGTH[algorithm];
  if (length !== undefined && !new RegExp(`^[0-9a-f]{${length}}$`).test(hex)) {
    return `a ${algorithm} digest is ${length} lowercase hex digits`;
  }
  if (!/^[0-9a-fA-F]{32,}$/.test(hex)) return 'a digest is at least 32 hex digits';
  return undefined;
}
