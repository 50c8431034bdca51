// A small HTTP app: answers every request with its pid and the instance number.
const http = require('http');
const port = Number(process.env.PORT) || 8080;
const server = http.createServer((req, res) => {
  res.end(`hello from pid ${process.pid} (instance ${process.env.NODE_APP_INSTANCE})\n`);
});
server.listen(port, () => console.log(`listening on ${port}`));
process.on('SIGINT', () => {
  console.log('SIGINT: closing');
  server.close(() => process.exit(0));
});
