import { escapeXml } from '../s3/error-response.js';

/**
 * Just enough XML for the S3 request bodies the server reads (CompleteMultipartUpload,
 * Delete, CreateBucketConfiguration) and for rendering responses. The request bodies are
 * flat lists of simple elements, so a full parser is not needed.
 */

/** Returns the raw inner XML of each element named `name`; elements of that name must not nest. */
export function xmlElements(xml: string, name: string): string[] {
  const pattern = new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${name}>`, 'g');
  return [...xml.matchAll(pattern)].map((match) => match[1]!);
}

/** Returns the decoded text of the first element named `name`, or undefined. */
export function xmlText(xml: string, name: string): string | undefined {
  const inner = xmlElements(xml, name)[0];
  return inner === undefined ? undefined : unescapeXml(inner);
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (entity, body: string) => {
    if (body.startsWith('#x')) {
      return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    }
    if (body.startsWith('#')) {
      return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    }
    return NAMED_ENTITIES[body] ?? entity;
  });
}

/** Renders `<name>value</name>` with the value escaped; undefined renders nothing. */
export function element(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlDocument(root: string, children: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${children}</${root}>`;
}
