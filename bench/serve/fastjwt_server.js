// A minimal Node http service verifying bearer tokens with fast-jwt: what
// users often write instead of a trust boundary. Used by bench_serve.sh
// only, as a point of comparison. Usage: node fastjwt_server.js PORT PEMFILE ALG
'use strict';
const http = require('http');
const fs = require('fs');
const { createVerifier } = require('fast-jwt');
const [port, keyFile, alg] = process.argv.slice(2);
const verify = createVerifier({ key: fs.readFileSync(keyFile), algorithms: [alg], cache: false });
http.createServer((req, res) => {
  const h = req.headers.authorization || '';
  try {
    const claims = verify(h.replace(/^Bearer /i, ''));
    res.writeHead(200, { 'X-Auth-Subject': String(claims.sub) });
  } catch (e) {
    res.writeHead(401);
  }
  res.end();
}).listen(Number(port), '127.0.0.1');
