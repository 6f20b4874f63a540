import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/validate.js';
import { CONFIG_SCHEMA, TENANT_KEYS } from '../../src/config/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('tenants.yaml.example', () => {
  it('is valid and sets every key', async () => {
    const text = await readFile(join(root, 'tenants.yaml.example'), 'utf8');
    const { raw } = parseConfigText(text, 'tenants.yaml.example');
    const values = raw as Record<string, unknown>;

    for (const [key, schema] of Object.entries(CONFIG_SCHEMA.properties)) {
      expect(values[key], key).toBeDefined();
      const nested = (schema as { properties?: object }).properties;
      for (const nestedKey of Object.keys(nested ?? {})) {
        expect((values[key] as Record<string, unknown>)[nestedKey], `${key}.${nestedKey}`).toBeDefined();
      }
    }
    const tenantKeys = new Set(Object.values(raw.tenants ?? {}).flatMap((tenant) => Object.keys(tenant ?? {})));
    expect([...tenantKeys].sort()).toEqual([...TENANT_KEYS].sort());
  });

  it('is described key by key in docs/configuration.md', async () => {
    const docs = await readFile(join(root, 'docs/configuration.md'), 'utf8');
    for (const [key, schema] of Object.entries(CONFIG_SCHEMA.properties)) {
      expect(docs).toContain(`\`${key}`);
      for (const nestedKey of Object.keys((schema as { properties?: object }).properties ?? {})) {
        expect(docs).toContain(`\`${key}.${nestedKey}\``);
      }
    }
    for (const key of TENANT_KEYS) {
      expect(docs).toContain(`\`tenants.<name>.${key}\``);
    }
  });
});
