import { Document, isMap, isScalar, YAMLMap, type Pair } from 'yaml';

/** First lines of a tenants.yaml that `add` creates. */
export const NEW_FILE_HEADER = [
  ' minio-tenants configuration, created by `minio-tenants add`.',
  ' tenants.yaml.example in the minio-tenants package describes every key.',
].join('\n');

export interface TenantEntry {
  port?: number;
}

/** Returns a document with only the header comment, for a tenants.yaml that does not exist yet. */
export function newConfigDocument(): Document {
  const document = new Document({});
  document.commentBefore = NEW_FILE_HEADER;
  return document;
}

/**
 * Appends `<name>:` to the `tenants` mapping, creating the mapping when missing or empty.
 * Other keys, their order and their comments stay as they are. An entry without settings
 * is written as `{}` rather than an empty value, because the YAML library attaches a
 * comment on the following line to an empty value.
 */
export function addTenantToDocument(document: Document, name: string, entry: TenantEntry): void {
  const tenants = tenantsMap(document);
  const value = document.createNode(entry.port === undefined ? {} : { port: entry.port });
  tenants.set(document.createNode(name), value);
}

/**
 * Deletes `<name>` from the `tenants` mapping with the comments that belong to it: the
 * comment lines above it and a comment at the end of its line. Returns false when the
 * tenant is not in the document. Call reattachFollowingComments first.
 */
export function removeTenantFromDocument(document: Document, name: string): boolean {
  const tenants = document.get('tenants', true);
  if (!isMap(tenants)) {
    return false;
  }
  const index = tenants.items.findIndex((pair) => isScalar(pair.key) && String(pair.key.value) === name);
  if (index === -1) {
    return false;
  }

  const [pair] = tenants.items.splice(index, 1);
  // The library stores the comment above the first entry on the mapping itself, and a
  // blank line before the new first entry would print as a line of indentation.
  if (index === 0) {
    tenants.commentBefore = undefined;
    const first = tenants.items[0]?.key;
    if (isScalar(first)) {
      first.spaceBefore = false;
    }
  }
  return pair !== undefined;
}

/**
 * Moves comments that the YAML library attached to the wrong key back to where they were.
 * The YAML library gives an empty value (`carol:`) the comment on the next line, even
 * when that comment introduces the next section or ends the file. Printed, it would
 * follow `carol:`, and removing carol would remove it. This function moves such a
 * comment to the next key in the file, or to the end of the document. Call it once on a
 * freshly parsed document, before any edit.
 */
export function reattachFollowingComments(document: Document, sourceText: string): void {
  const pairs = pairsInFileOrder(document.contents);

  pairs.forEach((pair, index) => {
    const value = pair.value;
    if (!isScalar(value) || value.value !== null || value.comment === undefined) {
      return;
    }
    const start = value.range?.[0] ?? 0;
    const lineEnd = sourceText.indexOf('\n', start);
    const restOfLine = sourceText.slice(start, lineEnd === -1 ? undefined : lineEnd);
    if (restOfLine.includes('#')) {
      return;
    }

    const comment = value.comment;
    value.comment = undefined;
    const nextKey = pairs[index + 1]?.key;
    if (isScalar(nextKey)) {
      nextKey.commentBefore = nextKey.commentBefore === undefined ? comment : `${comment}\n${nextKey.commentBefore}`;
    } else {
      document.comment = document.comment ? `${comment}\n${document.comment}` : comment;
    }
  });
}

function pairsInFileOrder(node: unknown): Pair[] {
  if (!isMap(node)) {
    return [];
  }
  return node.items.flatMap((pair) => [pair, ...pairsInFileOrder(pair.value)]);
}

function tenantsMap(document: Document): YAMLMap {
  if (!isMap(document.contents)) {
    document.contents = document.createNode({}) as unknown as typeof document.contents;
  }
  const existing = document.get('tenants', true);
  if (isMap(existing)) {
    return existing;
  }

  const created = new YAMLMap();
  // Keep a comment written after `tenants:` when it had no value yet.
  if (isScalar(existing)) {
    created.commentBefore = existing.comment;
  }
  document.set('tenants', created);
  return created;
}
