// Runs the S3-protocol server in its own process: its continuation tokens use DES, which
// Node's OpenSSL 3 only offers with --openssl-legacy-provider, a flag we keep out of the
// processes that run our own code. Prints one JSON line when ready.
const fs = require("node:fs");
const S3rver = require("@20minutes/s3rver");
const { DUMMY_ACCOUNT } = require("@20minutes/s3rver/lib/models/account.js");

const [port, directory, bucket, accessKeyId, secretAccessKey, connections, report] = process.argv.slice(2);
fs.mkdirSync(directory, { recursive: true });
DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});

// s3rver reads "bytes=-N" (the last N bytes, RFC 9110) as "bytes=0-N". Real S3 and R2 do not,
// so rewrite a suffix range into an explicit one before s3rver sees it.
server.middleware.unshift(async (ctx, next) => {
  const suffix = /^bytes=-(\d+)$/.exec(ctx.get("range"));
  const [, bucket, ...rest] = ctx.path.split("/");
  if (ctx.method === "GET" && suffix && bucket && rest.length > 0) {
    const metadata = await server.store.getMetadata(bucket, decodeURIComponent(rest.join("/"))).catch(() => null);
    const size = Number(metadata?.["content-length"]);
    if (Number.isFinite(size) && size > 0) {
      const length = Math.min(Number(suffix[1]), size);
      ctx.request.headers.range = `bytes=${size - length}-${size - 1}`;
    }
  }
  await next();
});

// A connection per request, when asked: a request on a connection the server accepted before it
// hung is dropped with that connection, while one on a fresh connection waits in the kernel and
// is served when the server wakes. Tests that pause the server need the second kind to be sure.
if (connections === "close") {
  server.middleware.unshift(async (ctx, next) => {
    ctx.set("Connection", "close");
    await next();
  });
}

// One JSON line per request, when asked: tests and benchmarks count storage round trips with it.
if (report === "report") {
  server.middleware.unshift(async (ctx, next) => {
    const startedAt = performance.timeOrigin + performance.now();
    try {
      await next();
    } finally {
      const endedAt = performance.timeOrigin + performance.now();
      const request = { method: ctx.method, path: decodeURIComponent(ctx.path), status: ctx.status, startedAt, endedAt };
      console.log(JSON.stringify({ request }));
    }
  });
}

server.run().then(
  (address) => console.log(JSON.stringify({ ready: true, port: address.port })),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
// The parent holds our stdin open; when it goes away, even by SIGKILL, so do we.
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
