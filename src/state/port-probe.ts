import getPort from 'get-port';

/**
 * Returns the ports among `candidates` that are in use on 127.0.0.1 right now, probing
 * in order and stopping after `wantedFree` free ones. Tenants listen on 127.0.0.1, so a
 * bind there is the test that matters.
 */
export async function findBusyPorts(candidates: number[], wantedFree: number): Promise<Set<number>> {
  const busy = new Set<number>();
  let free = 0;
  for (const port of candidates) {
    if (free >= wantedFree) {
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
