import { describe, expect, it } from 'vitest';
import { assertTenantName, tenantNameProblem } from '../../src/config/tenant-name.js';

describe('tenantNameProblem', () => {
  it.each(['a', 'alice', 'team-7', '0', '9lives', 'a'.repeat(63)])('accepts %j', (name) => {
    expect(tenantNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(64), '64 characters'],
    ['-alice', 'hyphen'],
    ['alice-', 'hyphen'],
    ['Alice', 'lowercase'],
    ['al_ice', 'lowercase'],
    ['al.ice', 'lowercase'],
    ['al ice', 'lowercase'],
    ['ålice', 'lowercase'],
    ['../x', 'lowercase'],
    ['supervisor', 'reserved'],
  ])('rejects %j', (name, fragment) => {
    expect(tenantNameProblem(name)).toContain(fragment);
  });

  it('throws an error that quotes the name and states the rule', () => {
    expect(() => assertTenantName('Bad')).toThrow(/invalid tenant name "Bad".*use lowercase letters, digits and hyphens/);
  });
});
