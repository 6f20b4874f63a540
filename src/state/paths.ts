import { join, resolve } from 'node:path';

/** Where each piece of state lives under the state directory. */
export interface StatePaths {
  root: string;
  /** proper-lockfile target held by the running supervisor. */
  supervisorLock: string;
  /** JSON with the supervisor's pid, start time and control socket. */
  supervisorInfo: string;
  /** Runtime state of every tenant (pid, port, state, restarts), written by the supervisor. */
  status: string;
  routes: string;
  /** Ports reserved by `add`, so that a tenant keeps its port. */
  ports: string;
  /** Lock held while `add` or `remove` changes tenants.yaml, credentials and ports. */
  changeLock: string;
  logs: string;
  tenantDir(name: string): string;
  credentials(name: string): string;
  configDir(name: string): string;
  log(name: string): string;
}

export function statePaths(stateDir: string): StatePaths {
  const root = resolve(stateDir);
  return {
    root,
    supervisorLock: join(root, 'supervisor'),
    supervisorInfo: join(root, 'supervisor.json'),
    status: join(root, 'status.json'),
    routes: join(root, 'routes.json'),
    ports: join(root, 'ports.json'),
    changeLock: join(root, 'tenants'),
    logs: join(root, 'logs'),
    tenantDir: (name) => join(root, 'tenants', name),
    credentials: (name) => join(root, 'tenants', name, 'credentials.json'),
    configDir: (name) => join(root, 'tenants', name, 'config'),
    log: (name) => join(root, 'logs', `${name}.log`),
  };
}
