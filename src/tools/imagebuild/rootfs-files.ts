import type { TreeBuilder } from './tree-builder';

export interface Account {
  name: string;
  id: number;
}

const ROOT_AND_NOBODY_USERS = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
];

/**
 * The /etc every image needs: passwd and group with root, nobody and any extra accounts (each
 * extra one gets a same-named group), /root, and /tmp with the sticky bit.
 */
export function baseEtc(tree: TreeBuilder, accounts: readonly Account[] = []): TreeBuilder {
  const users = [
    ...ROOT_AND_NOBODY_USERS,
    ...accounts.map((a) => `${a.name}:x:${a.id}:${a.id}:${a.name}:/nonexistent:/bin/false`),
  ];
  const groups = ['root:x:0:', 'nobody:x:65534:', ...accounts.map((a) => `${a.name}:x:${a.id}:`)];
  return tree
    .file('/etc/passwd', lines(users))
    .file('/etc/group', lines(groups))
    .dir('/root', 0o700)
    .dir('/tmp', 0o1777);
}

function lines(items: readonly string[]): string {
  return `${items.join('\n')}\n`;
}
