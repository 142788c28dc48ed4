import { Image, ImagesService } from '../../gen/containerd/services/images/v1/images';
import type { CallOpts, ContainerdConnection } from '../connection';
import { required } from '../connection';

export type ImageInit = Parameters<typeof Image.fromPartial>[0];

/** containerd's image records: names pointing at a manifest or index in the content store. */
export class ImagesApi {
  constructor(private readonly conn: ContainerdConnection) {}

  async get(name: string, opts?: CallOpts): Promise<Image> {
    const method = ImagesService.get;
    const res = await this.conn.unary(method, { name }, opts);
    return required(res.image, method.path, 'image');
  }

  async list(filters: string[] = [], opts?: CallOpts): Promise<Image[]> {
    const res = await this.conn.unary(ImagesService.list, { filters }, opts);
    return res.images;
  }

  async create(image: ImageInit, opts?: CallOpts): Promise<Image> {
    const method = ImagesService.create;
    const res = await this.conn.unary(method, { image: Image.fromPartial(image) }, opts);
    return required(res.image, method.path, 'image');
  }

  /** `updateMask` names the fields to change (e.g. `target`, `labels`); empty changes all. */
  async update(image: ImageInit, updateMask: string[], opts?: CallOpts): Promise<Image> {
    const method = ImagesService.update;
    const request = { image: Image.fromPartial(image), updateMask };
    const res = await this.conn.unary(method, request, opts);
    return required(res.image, method.path, 'image');
  }

  /** `sync` waits for containerd's garbage collection to release the image's content. */
  async delete(name: string, options: { sync?: boolean } & CallOpts = {}): Promise<void> {
    await this.conn.unary(ImagesService.delete, { name, sync: options.sync ?? false }, options);
  }
}
