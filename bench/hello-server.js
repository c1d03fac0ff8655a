// The bench's yardstick: the smallest useful node:http server, in a process of its own.
const http = require('node:http');
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello world');
  })
  .listen(Number(process.argv[2]), '127.0.0.1');
