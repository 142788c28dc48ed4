import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { formatPath, type LocatedIssue, type PathSegment, type SourcePos } from './issue';
import { REPORTED } from './report';

/** A .bun is three levels deep; much deeper is an attack or a mistake, and recursion has limits. */
const MAX_DEPTH = 16;

/** Where a field's key and value start (offsets), and a scalar's text as written. */
export interface Spot {
  key?: number;
  value: number;
  source?: string;
}

/** State of one conversion: what was found where, and the problems met on the way. */
export interface Walk {
  aliases: number;
  spots: Map<string, Spot>;
  issues: LocatedIssue[];
  at: (offset: number) => SourcePos;
}

/**
 * The YAML node as plain values, recording each field's place in `walk.spots`. Aliases are never
 * followed; a node that cannot be converted becomes REPORTED after its problem is recorded.
 */
export function toPlain(node: Node, path: PathSegment[], walk: Walk, keyOffset?: number): unknown {
  const offset = node.range?.[0] ?? 0;
  const spot: Spot =
    keyOffset === undefined ? { value: offset } : { key: keyOffset, value: offset };
  walk.spots.set(JSON.stringify(path), spot);
  const fail = (message: string): typeof REPORTED => {
    walk.issues.push({ ...walk.at(offset), path: formatPath(path), message });
    return REPORTED;
  };
  if (path.length > MAX_DEPTH) return fail(`nested more than ${MAX_DEPTH} levels deep`);
  if (isAlias(node)) {
    // One message is enough: an alias bomb has hundreds, and each would say the same thing.
    walk.aliases += 1;
    if (walk.aliases > 1) return REPORTED;
    return fail(`aliases (*${node.source}) are not supported; write the value out`);
  }
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
      if (node.source !== undefined) spot.source = node.source;
      return v;
    }
    return fail('expected a plain string, number or boolean');
  }
  if (isSeq(node)) return node.items.map((item, i) => childToPlain(item, [...path, i], walk));
  if (isMap(node)) return mapToPlain(node.items, path, walk);
  return fail('unsupported YAML node');
}

function childToPlain(item: unknown, path: PathSegment[], walk: Walk, keyOffset?: number): unknown {
  // A missing value (`key:` alone) parses as a null scalar, so a non-node here is only `? key`.
  return isNode(item) ? toPlain(item, path, walk, keyOffset) : null;
}

function mapToPlain(
  items: readonly { key: unknown; value: unknown }[],
  path: PathSegment[],
  walk: Walk,
) {
  const entries = new Map<string, unknown>();
  const firstAt = new Map<string, number>();
  for (const pair of items) {
    const keyNode = pair.key;
    const keyOffset = isNode(keyNode) ? (keyNode.range?.[0] ?? 0) : 0;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
      walk.issues.push({
        ...walk.at(keyOffset),
        path: formatPath(path),
        message: 'keys must be plain names',
      });
      continue;
    }
    const name = String(key);
    const first = firstAt.get(name);
    if (first !== undefined) {
      const { line, column } = walk.at(first);
      walk.issues.push({
        ...walk.at(keyOffset),
        path: formatPath([...path, name]),
        message: `duplicate key (first defined at line ${line}, column ${column})`,
      });
      continue;
    }
    firstAt.set(name, keyOffset);
    entries.set(name, childToPlain(pair.value, [...path, name], walk, keyOffset));
  }
  // fromEntries defines own properties, so a key named __proto__ stays data, not a prototype.
  return Object.fromEntries(entries);
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}
