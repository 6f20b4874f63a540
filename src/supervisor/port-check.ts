import { createServer } from 'node:net';

/**
 * True when nothing listens on 127.0.0.1:`port`, tested by binding it for a moment.
 * Node sets SO_REUSEADDR, so a port whose last connections sit in TIME_WAIT counts as free,
 * as it does for the server that will bind it next.
 */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
