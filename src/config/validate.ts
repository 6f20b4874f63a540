import { join, normalize } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { TenantsError } from '../errors.js';
import { MAX_PROXY_WORKERS } from './defaults.js';
import { isHostName, LISTEN_ADDRESS_HINT, parseListenAddress } from './listen-address.js';
import { CONFIG_SCHEMA, type RawConfig } from './schema.js';
import { TENANT_NAME_RULE, tenantNameProblem } from './tenant-name.js';
import { SIZE_PATTERN } from './units.js';

/** One problem in tenants.yaml, located by its key path (`['tenants', 'alice', 'port']`). */
export interface ConfigIssue {
  path: string[];
  message: string;
}

export interface ParsedConfig {
  raw: RawConfig;
  /** The parsed document with its comments, for edits that keep them. */
  document: Document;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const validateSchema = ajv.compile<RawConfig>(CONFIG_SCHEMA);

/**
 * Parses and validates the text of tenants.yaml. Throws one TenantsError with code
 * CONFIG_INVALID that lists every problem as `<file>:<line>: <message>`, sorted by line.
 * `displayName` is the file name used in those messages.
 */
export function parseConfigText(text: string, displayName: string): ParsedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const syntaxErrors = document.errors.map((error) => {
    const line = lineCounter.linePos(error.pos[0]).line;
    return { line, message: `invalid YAML: ${firstLine(error.message)}` };
  });
  if (syntaxErrors.length > 0) {
    throw configError(displayName, syntaxErrors);
  }

  const raw: unknown = document.toJS({ maxAliasCount: 100 });
  const issues = validateSchema(raw) ? checkValues(raw) : (validateSchema.errors ?? []).map(describeSchemaError);
  if (issues.length > 0) {
    const located = issues.map((issue) => ({ line: lineOf(document, lineCounter, issue.path), message: issue.message }));
    throw configError(displayName, located);
  }
  return { raw: (raw ?? {}) as RawConfig, document };
}

/** Checks that the schema cannot express: names, address formats, ranges and duplicates. */
export function checkValues(raw: RawConfig | null): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const tenants = Object.entries(raw?.tenants ?? {});

  for (const [name] of tenants) {
    const problem = tenantNameProblem(name);
    if (problem !== undefined) {
      issues.push({
        path: ['tenants', name],
        message: `invalid tenant name ${JSON.stringify(name)} in tenants: ${problem}; use ${TENANT_NAME_RULE}`,
      });
    }
  }

  const listen = raw?.proxy?.listen;
  const listenAddress = listen === undefined ? undefined : parseListenAddress(listen);
  if (listen !== undefined && listenAddress === undefined) {
    issues.push({ path: ['proxy', 'listen'], message: `invalid proxy.listen ${JSON.stringify(listen)}; ${LISTEN_ADDRESS_HINT}` });
  }

  const publicUrl = raw?.proxy?.publicUrl;
  if (publicUrl !== undefined && !isBaseUrl(publicUrl)) {
    issues.push({
      path: ['proxy', 'publicUrl'],
      message: `invalid proxy.publicUrl ${JSON.stringify(publicUrl)}; expected an http or https URL without path, query or credentials, such as https://s3.example.com`,
    });
  }

  const workers = raw?.proxy?.workers;
  if (workers !== undefined && workers !== 'auto' && !(Number.isInteger(workers) && (workers as number) >= 1 && (workers as number) <= MAX_PROXY_WORKERS)) {
    issues.push({
      path: ['proxy', 'workers'],
      message: `invalid proxy.workers ${JSON.stringify(workers)}; expected an integer from 1 to ${MAX_PROXY_WORKERS}, or auto for one per CPU core`,
    });
  }

  const from = raw?.ports?.from;
  const to = raw?.ports?.to;
  if (from !== undefined && to !== undefined && from > to) {
    issues.push({ path: ['ports', 'from'], message: `ports.from (${from}) is greater than ports.to (${to}); expected from <= to` });
  }

  const dataDirOwners = new Map<string, string>();
  for (const [name, tenant] of tenants) {
    // Relative paths are compared as written, so this catches the common mistakes only.
    const written = tenant?.dataDir ?? join(raw?.dataDir ?? 'data', name);
    const key = normalize(written).replace(/(.)\/+$/, '$1');
    const owner = dataDirOwners.get(key);
    if (owner !== undefined) {
      issues.push({
        path: ['tenants', name, 'dataDir'],
        message: `tenants.${name}.dataDir ${JSON.stringify(written)} is also the data directory of tenant ${owner}; expected a directory of its own`,
      });
    }
    dataDirOwners.set(key, owner ?? name);
  }

  const proxyPort = listenAddress?.port ?? 9000;
  const portOwners = new Map<number, string>();
  const hostOwners = new Map<string, string>();
  for (const [name, tenant] of tenants) {
    const port = tenant?.port;
    if (port !== undefined) {
      const owner = portOwners.get(port);
      if (owner !== undefined) {
        issues.push({ path: ['tenants', name, 'port'], message: `tenants.${name}.port ${port} is also the port of tenant ${owner}; expected a port no other tenant uses` });
      } else if (port === proxyPort) {
        issues.push({ path: ['tenants', name, 'port'], message: `tenants.${name}.port ${port} is the proxy's port (proxy.listen); expected another port` });
      }
      portOwners.set(port, owner ?? name);
    }

    for (const [index, host] of (tenant?.hosts ?? []).entries()) {
      const path = ['tenants', name, 'hosts', String(index)];
      if (!isHostName(host)) {
        issues.push({ path, message: `invalid host name ${JSON.stringify(host)} in tenants.${name}.hosts; expected a DNS name or IP address without port, such as alice.s3.example.com` });
        continue;
      }
      const key = host.toLowerCase();
      const owner = hostOwners.get(key);
      if (owner !== undefined && owner !== name) {
        issues.push({ path, message: `host ${JSON.stringify(host)} in tenants.${name}.hosts is also listed for tenant ${owner}; a host must route to one tenant` });
      }
      hostOwners.set(key, owner ?? name);
    }
  }
  return issues;
}

function isBaseUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const schemeOk = url.protocol === 'http:' || url.protocol === 'https:';
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  return schemeOk && bare;
}

/** Turns one ajv error into a message that names the key and what is expected. */
function describeSchemaError(error: ErrorObject): ConfigIssue {
  const path = pointerSegments(error.instancePath);
  const where = path.length === 0 ? 'the top level' : path.join('.');

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return { path: [...path, key], message: `unknown key ${JSON.stringify(key)} in ${where}; expected one of ${known.join(', ')}` };
    }
    case 'type': {
      const { pattern } = error.parentSchema as { pattern?: string };
      if (pattern !== undefined) {
        return { path, message: `${where} must be ${describePattern(pattern)}, got ${describeValue(error.data)}` };
      }
      const types = ([] as string[]).concat((error.params as { type: string | string[] }).type);
      const expected = types.filter((type) => type !== 'null').map(describeType).join(' or ');
      const hint = types.includes('string') ? ' (quote the value to make it a string)' : '';
      return { path, message: `${where} must be ${expected}, got ${describeValue(error.data)}${hint}` };
    }
    case 'minimum':
    case 'maximum': {
      const schema = error.parentSchema as { minimum: number; maximum: number };
      return { path, message: `${where} must be an integer from ${schema.minimum} to ${schema.maximum}, got ${describeValue(error.data)}` };
    }
    case 'pattern': {
      const { pattern } = error.parentSchema as { pattern: string };
      return { path, message: `${where} must be ${describePattern(pattern)}, got ${describeValue(error.data)}` };
    }
    case 'minLength':
      return { path, message: `${where} must not be empty` };
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ');
      return { path, message: `${where} must be one of ${allowed}, got ${describeValue(error.data)}` };
    }
    case 'uniqueItems': {
      const { i } = error.params as { i: number };
      const list = error.data as unknown[];
      return { path: [...path, String(i)], message: `${where} lists ${describeValue(list[i])} more than once; expected distinct values` };
    }
    default:
      return { path, message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

/** Durations and sizes are the only strings with a pattern in the schema. */
function describePattern(pattern: string): string {
  return pattern === SIZE_PATTERN ? 'a size such as 512KiB, 10MiB or 1GiB' : 'a duration such as 250ms, 30s, 5m or 1h';
}

function describeType(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping of keys',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return 'an empty value';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'object') {
    return 'a mapping';
  }
  return `${typeof value === 'string' ? 'the string ' : ''}${JSON.stringify(value)}`;
}

/** Splits a JSON pointer (RFC 6901) into unescaped segments. */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') {
    return [];
  }
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Finds the 1-based line of a key path in the document. The line of the deepest key that
 * exists is used, so an unknown key points at itself and a missing one at its parent.
 */
function lineOf(document: Document, lineCounter: LineCounter, path: string[]): number {
  let node: unknown = document.contents;
  let offset = (document.contents as Node | null)?.range?.[0] ?? 0;

  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
      if (pair === undefined) {
        break;
      }
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
      if (isScalar(node) && node.value !== null) {
        offset = node.range?.[0] ?? offset;
      }
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) {
        break;
      }
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset).line;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function configError(displayName: string, problems: { line: number; message: string }[]): TenantsError {
  const lines = [...problems]
    .sort((a, b) => a.line - b.line)
    .map((problem) => `${displayName}:${problem.line}: ${problem.message}`);
  const summary = lines.length === 1 ? '' : `\n${lines.length} problems; fix them and run the command again`;
  return new TenantsError('CONFIG_INVALID', `${lines.join('\n')}${summary}`);
}
