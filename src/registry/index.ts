/** OCI distribution (registry v2) client: references, resolve, verified blob streams. */
export { RegistryClient, type RegistryClientOptions, type ResolveOptions } from './client';
export type { Credentials, CredentialSource } from './auth';
export { DigestMismatchError } from './errors';
export type { HttpAgents } from './http';
export {
  choosePlatform,
  formatPlatform,
  hostPlatform,
  listPlatforms,
  type Platform,
} from './platform';
export { ImageReference, parseReference, registryHost } from './reference';
export { canonicalName, imageRecordName } from './resolve';
export type { BlobFetchOptions, RegistryDocument, ResolvedImage } from './types';
