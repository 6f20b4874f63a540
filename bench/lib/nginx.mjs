// Starts nginx from Debian with a generated configuration in a temporary prefix, in the
// foreground as a tracked child: `nginx -c FILE -p PREFIX -g 'daemon off; pid PIDFILE;'`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForHttp } from './network.mjs';
import { makeTemporaryDir, startProcess } from './processes.mjs';

/**
 * Starts nginx with `httpBlock` inside `http { }`. The caller's server blocks listen on
 * 127.0.0.1 ports it chose; `readyPort` is polled until it answers.
 */
export async function startNginx({ label, workerProcesses, httpBlock, readyPort, readyPath = '/' }) {
  const prefix = await makeTemporaryDir(`bench-${label}`);
  const configFile = join(prefix, 'nginx.conf');
  await writeFile(configFile, nginxConfig(prefix, workerProcesses, httpBlock));
  const child = startProcess('nginx', ['-c', configFile, '-p', prefix, '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`], {
    label,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHttp(readyPort, { path: readyPath, child });
  return { child, prefix };
}

function nginxConfig(prefix, workerProcesses, httpBlock) {
  // As root, nginx switches its workers to "nobody", who cannot write the temp dirs in the prefix.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
worker_processes ${workerProcesses};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 60s;
${httpBlock}
}
`;
}

/**
 * The multi-tenancy setup of MinIO's nginx guide: a regex map from the access key in
 * `Credential=KEY/` to an upstream group with keep-alive connections, no buffering in either
 * direction, no body size limit and invalid headers passed through. The map also matches
 * `X-Amz-Credential=KEY%2F` in the query so presigned URLs route too, and requests without
 * a key go to the first tenant, as the benchmark's Host routing of the proxy does.
 */
export function nginxTenantProxyBlock({ listenPort, routes }) {
  const upstreams = routes
    .map((route, i) => `  upstream tenant_${i} { server ${route.upstreamHostPort}; keepalive 64; }`)
    .join('\n');
  const mapLines = routes.map((route, i) => `    ~Credential=${escapeRegex(route.accessKey)}(/|%2F) tenant_${i};`).join('\n');
  return `${upstreams}
  map "$http_authorization $args" $tenant_upstream {
    default tenant_0;
${mapLines}
  }
  server {
    listen 127.0.0.1:${listenPort};
    ignore_invalid_headers off;
    client_max_body_size 0;
    proxy_buffering off;
    proxy_request_buffering off;
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      chunked_transfer_encoding off;
      proxy_connect_timeout 300;
      proxy_pass http://$tenant_upstream;
    }
  }`;
}

function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
