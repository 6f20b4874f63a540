import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Directories that `remove --purge` must neither delete nor contain. */
export interface ProtectedDirs {
  configDir: string;
  stateDir: string;
  /** The shared data directory, which contains every tenant's default data directory. */
  dataDir: string;
  /** Data directories of the other tenants. */
  otherTenantDataDirs: string[];
  /** The user's home directory. */
  homeDir: string;
}

/**
 * Returns why deleting `target` recursively would be unsafe, or undefined when it is only
 * this tenant's data. A target that equals or contains a protected directory is rejected,
 * so a tenant `dataDir` of `..` or `/` cannot wipe the configuration or other tenants.
 */
export function purgeProblem(target: string, protectedDirs: ProtectedDirs): string | undefined {
  const resolved = resolve(target);
  if (resolved === resolve('/')) {
    return 'it is the root directory';
  }

  const named: [string, string][] = [
    ['the directory of tenants.yaml', protectedDirs.configDir],
    ['the state directory', protectedDirs.stateDir],
    ['the shared data directory', protectedDirs.dataDir],
    ['the home directory', protectedDirs.homeDir],
    ...protectedDirs.otherTenantDataDirs.map((dir): [string, string] => ['the data directory of another tenant', dir]),
  ];
  for (const [label, dir] of named) {
    if (isSameOrInside(resolve(dir), resolved)) {
      return `it is or contains ${label} (${dir})`;
    }
  }
  return undefined;
}

/** True when `inner` is `outer` or a path below it. */
function isSameOrInside(inner: string, outer: string): boolean {
  const path = relative(outer, inner);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}
