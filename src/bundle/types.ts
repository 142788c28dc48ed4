/**
 * The normalised app that a valid .bun file becomes: every default filled, durations in
 * milliseconds, volume sources absolute. The CLI sends it to the agent; the agent validates it again
 * (it trusts nothing) and consumes only this shape.
 */
export type Protocol = 'tcp' | 'udp';
export type VolumeMode = 'rw' | 'ro';
export type RestartPolicy = 'always' | 'on-failure' | 'never';

export type ImageSource =
  /** A registry reference as written (normalise with the registry module's reference parser). */
  | { kind: 'registry'; reference: string }
  /** An OCI layout or `docker save` tar, absolute path. */
  | { kind: 'archive'; path: string };

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: Protocol;
}

export interface VolumeMount {
  /** Absolute path on the host. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  mode: VolumeMode;
}

export interface Healthcheck {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
}

export interface App {
  version: '1.0';
  name: string;
  image: ImageSource;
  ports: PortMapping[];
  volumes: VolumeMount[];
  /** In file order; later duplicates of a key win. */
  environment: { name: string; value: string }[];
  healthcheck?: Healthcheck;
  replicas: { min: number; max: number };
  /** Overrides the image's Cmd. */
  command?: string[];
  /** Overrides the image's Entrypoint. */
  entrypoint?: string[];
  workdir?: string;
  hostname?: string;
  restart: RestartPolicy;
  stopTimeoutMs: number;
}
