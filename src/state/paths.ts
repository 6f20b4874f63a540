import { join, resolve } from 'node:path';

/** Locations of each piece of state under the state directory. */
export interface StatePaths {
  root: string;
  /** JSON with the running supervisor's pid and start time; its existence is the supervisor lock. */
  supervisorInfo: string;
  /** Runtime state of every tenant (pid, port, state, restarts), written by the supervisor. */
  status: string;
  routes: string;
  /** Ports reserved by `add`, so that a tenant keeps its port. */
  ports: string;
  /** Lock held while `add` or `remove` changes tenants.yaml, credentials and ports. */
  changeLock: string;
  logs: string;
  /** Unix socket of the running supervisor, for live changes (`add`, `remove`, `restart`, `reload`). */
  controlSocket: string;
  tenantDir(name: string): string;
  credentials(name: string): string;
  configDir(name: string): string;
  log(name: string): string;
}

export function statePaths(stateDir: string): StatePaths {
  const root = resolve(stateDir);
  return {
    root,
    supervisorInfo: join(root, 'supervisor.json'),
    status: join(root, 'status.json'),
    routes: join(root, 'routes.json'),
    ports: join(root, 'ports.json'),
    changeLock: join(root, 'tenants'),
    logs: join(root, 'logs'),
    controlSocket: join(root, 'control.sock'),
    tenantDir: (name) => join(root, 'tenants', name),
    credentials: (name) => join(root, 'tenants', name, 'credentials.json'),
    configDir: (name) => join(root, 'tenants', name, 'config'),
    log: (name) => join(root, 'logs', `${name}.log`),
  };
}
