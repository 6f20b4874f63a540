// Backend for large PUTs: reads each request body to the end, then answers 200 with an
// empty body. Usage: node sink-server.mjs PORT (listens on 127.0.0.1 only).
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
