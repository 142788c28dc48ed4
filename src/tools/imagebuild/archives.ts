import type { Artifact } from './blob';
import type { BuiltImage } from './image';
import { dockerSaveFiles, ociLayoutFiles } from './layout';
import { writeDirectory, writeTarFile } from './output';

/** Writes an OCI layout directory holding one artifact named `refName` (default "latest"). */
export async function writeOciLayoutDir(
  dir: string,
  artifact: Artifact,
  refName = 'latest',
): Promise<void> {
  await writeDirectory(dir, ociLayoutFiles([{ refName, artifact }]));
}

/** The same layout as a single tar, as `budgie image import` and `skopeo copy oci-archive:` read. */
export async function writeOciLayoutTar(
  path: string,
  artifact: Artifact,
  refName = 'latest',
): Promise<void> {
  await writeTarFile(path, ociLayoutFiles([{ refName, artifact }]));
}

export async function writeDockerSaveTar(
  path: string,
  image: BuiltImage,
  repoTags: readonly string[],
): Promise<void> {
  await writeTarFile(path, dockerSaveFiles(image, repoTags));
}
