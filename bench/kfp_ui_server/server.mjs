// The path the KFP UI's API calls take in a browser: its web server (ml-pipeline-ui) logs each request
// and proxies /apis/v2beta1/* to the API server (ml-pipeline) with express and http-proxy-middleware,
// which is how kubeflow/pipelines frontend/server wires it (changeOrigin, a keep-alive Connection
// header, a log line per proxied request). Written by us for bench/bench_kfp.py from that description;
// static files, artifacts, pod logs and auth are left out (they are not on the runs page's API path).
//   node server.mjs API_URL PORT_FILE
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { writeFileSync } from 'node:fs';

const [target, portFile] = process.argv.slice(2);
const app = express();
app.use((req, _res, next) => {
  console.info(req.method + ' ' + req.originalUrl);
  next();
});
app.all(
  '/apis/v2beta1/*path',
  createProxyMiddleware({
    target,
    changeOrigin: true,
    headers: { Connection: 'keep-alive' },
    onProxyReq: (proxyReq) => console.log('Proxied request: ', proxyReq.path),
  }),
);
const server = app.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
