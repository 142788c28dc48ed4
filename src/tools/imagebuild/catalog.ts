import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { writeOciLayoutDir, writeOciLayoutTar } from './archives';
import { busyboxHttpdImage } from './busybox';
import { buildImage } from './image';
import { nginxImage } from './nginx';

/** One file or directory a build wrote, described for the person who asked. */
export interface Written {
  path: string;
  manifest: string;
}

/** A named image `make images` builds; `missing` says why it cannot be built here, if it can't. */
export interface CatalogEntry {
  name: string;
  missing(): Promise<string | undefined>;
  write(outDir: string): Promise<Written[]>;
}

const needs = (path: string, pkg: string) => async (): Promise<string | undefined> =>
  access(path).then(
    () => undefined,
    () => `${path} not found (apt-get install ${pkg})`,
  );

export const CATALOG: readonly CatalogEntry[] = [
  {
    name: 'busybox-httpd',
    missing: needs('/bin/busybox', 'busybox-static'),
    write: async (outDir) => {
      const image = buildImage(await busyboxHttpdImage());
      const tar = join(outDir, 'busybox-httpd.tar');
      const dir = join(outDir, 'busybox-httpd');
      await writeOciLayoutTar(tar, image);
      await writeOciLayoutDir(dir, image);
      return [tar, dir].map((path) => ({ path, manifest: image.manifest.digest }));
    },
  },
  {
    name: 'nginx',
    missing: needs('/usr/sbin/nginx', 'nginx-light'),
    write: async (outDir) => {
      const image = buildImage(await nginxImage());
      const tar = join(outDir, 'nginx.tar');
      await writeOciLayoutTar(tar, image);
      return [{ path: tar, manifest: image.manifest.digest }];
    },
  },
];
