import getPort from 'get-port';

/**
 * Returns the ports among `candidates` that are in use on 127.0.0.1 right now, probing
 * in order and stopping after `freeNeeded` free ones. The proxy reaches the tenants'
 * servers over loopback, so a bind on 127.0.0.1 is the check.
 */
export async function findBusyPorts(candidates: number[], freeNeeded: number): Promise<Set<number>> {
  const busy = new Set<number>();
  let free = 0;
  for (const port of candidates) {
    if (free >= freeNeeded) {
      break;
    }
    // get-port returns another port when the requested one cannot be bound.
    const bound = await getPort({ port, host: '127.0.0.1' });
    if (bound === port) {
      free += 1;
    } else {
      busy.add(port);
    }
  }
  return busy;
}
