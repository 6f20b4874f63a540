import { describe, expect, it } from 'vitest';
import { purgeProblem } from '../../src/state/purge-guard.js';

describe('purgeProblem', () => {
  const protectedDirs = {
    configDir: '/srv/tenants',
    stateDir: '/srv/tenants/.minio-tenants',
    dataDir: '/srv/tenants/data',
    otherTenantDataDirs: ['/srv/tenants/data/bob', '/mnt/carol'],
    homeDir: '/home/user',
  };

  it.each(['/srv/tenants/data/alice', '/mnt/alice-data', '/srv/tenants/data/alice/nested', '/home/user/alice'])('allows %s', (target) => {
    expect(purgeProblem(target, protectedDirs)).toBeUndefined();
  });

  it.each([
    ['/', 'root directory'],
    ['/srv', 'directory of tenants.yaml'],
    ['/srv/tenants', 'directory of tenants.yaml'],
    ['/srv/tenants/.minio-tenants', 'state directory'],
    ['/srv/tenants/data', 'shared data directory'],
    ['/srv/tenants/data/alice/..', 'shared data directory'],
    ['/srv/tenants/data/bob', 'another tenant'],
    ['/mnt', 'another tenant'],
    ['/home/user', 'home directory'],
    ['/home', 'home directory'],
  ])('rejects %s', (target, fragment) => {
    expect(purgeProblem(target, protectedDirs)).toContain(fragment);
  });

  it('treats a sibling with a common prefix as outside', () => {
    expect(purgeProblem('/srv/tenants-old', protectedDirs)).toBeUndefined();
  });
});
