import { isAbsolute } from 'node:path';
import { InvalidInputError } from '../errors';
import type { ImageConfig } from '../oci/image-codecs';
import { buildSpec } from '../oci/spec';
import type { ImageRunConfig, OciSpec } from '../oci/spec-types';
import type { ContainerCreateOptions } from '../runtime/containers';

/** Budgie's container IDs: 64 hex digits, like Docker's, so a 12-digit prefix names one. */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** Refuses options that containerd would reject later with a less helpful message. */
export function checkCreateOptions(options: ContainerCreateOptions): void {
  if (!CONTAINER_ID.test(options.id)) {
    throw new InvalidInputError(`container ID "${options.id}" is not 64 lowercase hex digits`);
  }
  // The shim opens the log through a file:// URI, which only an absolute path makes.
  if (!isAbsolute(options.logPath)) {
    throw new InvalidInputError(`container log path "${options.logPath}" is not absolute`);
  }
}

/** The hostname a container gets when the caller names none: its short ID, as under Docker. */
export function defaultHostname(id: string): string {
  return id.slice(0, 12);
}

/** What the image config says about running it, with JSON nulls read as "not set". */
export function imageRunConfig(config: ImageConfig): ImageRunConfig {
  const c = config.config ?? {};
  return {
    ...(c.Entrypoint == null ? {} : { entrypoint: c.Entrypoint }),
    ...(c.Cmd == null ? {} : { cmd: c.Cmd }),
    ...(c.Env == null ? {} : { env: c.Env }),
    ...(c.WorkingDir === undefined ? {} : { workingDir: c.WorkingDir }),
    ...(c.User === undefined ? {} : { user: c.User }),
  };
}

/** The OCI runtime spec of one container from its image's config and the caller's options. */
export function containerSpec(
  namespace: string,
  image: ImageConfig,
  options: ContainerCreateOptions,
): OciSpec {
  return buildSpec({
    id: options.id,
    namespace,
    hostname: options.hostname ?? defaultHostname(options.id),
    image: imageRunConfig(image),
    environment: options.environment,
    volumes: options.volumes,
    ...(options.entrypoint === undefined ? {} : { entrypoint: options.entrypoint }),
    ...(options.command === undefined ? {} : { command: options.command }),
    ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
    ...(options.netnsPath === undefined ? {} : { netnsPath: options.netnsPath }),
    ...(options.extraMounts === undefined ? {} : { extraMounts: options.extraMounts }),
  });
}
