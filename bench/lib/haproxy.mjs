// Starts HAProxy from Debian with a generated configuration, in the foreground (`-db`) as a
// tracked child.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForHttp } from './network.mjs';
import { makeTemporaryDir, startProcess } from './processes.mjs';

/**
 * Starts HAProxy routing by access key like the tenants proxy: the key is cut out of the
 * Authorization header (`Credential=KEY/...`) or the X-Amz-Credential query parameter and
 * looked up in a map file of key to backend. Requests without a key go to the first tenant.
 * `req.fhdr` reads the whole header, because `req.hdr` splits values at commas.
 */
export async function startHaproxy({ label = 'haproxy', threads, listenPort, routes }) {
  const prefix = await makeTemporaryDir(`bench-${label}`);
  const mapFile = join(prefix, 'routes.map');
  const configFile = join(prefix, 'haproxy.cfg');
  await writeFile(mapFile, routes.map((route, i) => `${route.accessKey} tenant_${i}\n`).join(''));
  await writeFile(configFile, haproxyConfig({ threads, listenPort, routes, mapFile }));

  const child = startProcess('haproxy', ['-f', configFile, '-db'], { label, stdio: ['ignore', 'ignore', 'inherit'] });
  // Any answer from a backend means HAProxy listens and routes.
  await waitForHttp(listenPort, { path: '/', child });
  return { child, prefix };
}

function haproxyConfig({ threads, listenPort, routes, mapFile }) {
  const backends = routes.map((route, i) => `backend tenant_${i}\n  server s1 ${route.upstreamHostPort}\n`).join('');
  return `global
  nbthread ${threads}
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 60s
frontend s3
  bind 127.0.0.1:${listenPort}
  http-request set-var(txn.access_key) req.fhdr(authorization),word(2,=),word(1,/) if { req.fhdr(authorization) -m found }
  http-request set-var(txn.access_key) url_param(X-Amz-Credential),url_dec,word(1,/) if !{ var(txn.access_key) -m found }
  use_backend %[var(txn.access_key),map(${mapFile},tenant_0)]
  default_backend tenant_0
${backends}`;
}
