/**
 * The generated containerd messages the rest of src/containerd builds on, from one place and with
 * names that do not clash (containerd reuses Info and Status across services). Nothing outside
 * src/containerd may import these (eslint enforces it): the runtime interface speaks Budgie types.
 */
export { Container, Container_Runtime } from '../gen/containerd/services/containers/v1/containers';
export {
  Info as ContentInfo,
  Status as IngestStatus,
  WriteAction,
  type WriteContentResponse,
} from '../gen/containerd/services/content/v1/content';
export type { ApplyRequest, DiffRequest } from '../gen/containerd/services/diff/v1/diff';
export { Envelope } from '../gen/containerd/services/events/v1/events';
export { Image } from '../gen/containerd/services/images/v1/images';
export {
  ImageCreate,
  ImageDelete,
  ImageUpdate,
} from '../gen/containerd/services/images/v1/image_events';
export type { Plugin } from '../gen/containerd/services/introspection/v1/introspection';
export { Lease, Resource as LeaseResource } from '../gen/containerd/services/leases/v1/leases';
export { Namespace } from '../gen/containerd/services/namespaces/v1/namespace';
export {
  Info as SnapshotInfo,
  Kind as SnapshotKind,
  type UsageResponse as SnapshotUsage,
} from '../gen/containerd/services/snapshots/v1/snapshots';
export type {
  CreateTaskRequest,
  DeleteResponse as TaskDeleteResponse,
  ExecProcessRequest,
  WaitResponse,
} from '../gen/containerd/services/tasks/v1/tasks';
export type { VersionResponse } from '../gen/containerd/services/version/v1/version';
export { Descriptor } from '../gen/containerd/types/descriptor';
export { Mount } from '../gen/containerd/types/mount';
export { Platform } from '../gen/containerd/types/platform';
export { Process, ProcessInfo, Status as TaskStatus } from '../gen/containerd/types/task/task';
export {
  ContainerCreate,
  ContainerDelete,
  ContainerUpdate,
} from '../gen/containerd/events/container';
export {
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from '../gen/containerd/events/task';
export { Any } from '../gen/google/protobuf/any';
export { Timestamp } from '../gen/google/protobuf/timestamp';
