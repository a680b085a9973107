#!/usr/bin/env node
// A container health check that really asks the service, in plain Node (no tsx, starts fast):
//   node scripts/health-probe.mjs grpc://127.0.0.1:8002            grpc.health.v1.Health/Check, SERVING?
//   node scripts/health-probe.mjs http://127.0.0.1:8080/ready      2xx?
// Exit 0 when healthy, 1 otherwise (with the reason on stderr).
import http2 from "node:http2";

const target = process.argv[2];
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? 3000);

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

function grpcHealth(url) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${url.host}`);
    session.on("error", reject);
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const req = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks = [];
    let grpcStatus;
    req.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
    });
    req.on("trailers", (trailers) => {
      grpcStatus = String(trailers["grpc-status"]);
    });
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("error", reject);
    req.on("end", () => {
      clearTimeout(timer);
      session.close();
      if (grpcStatus !== "0") return reject(new Error(`grpc-status ${grpcStatus}`));
      // one frame: 1 flag byte, 4 length bytes, then HealthCheckResponse { status = 1 (field 1, varint) }
      const body = Buffer.concat(chunks).subarray(5);
      const status = body.length >= 2 && body[0] === 0x08 ? body[1] : 0;
      resolve(status === 1 ? "SERVING" : `status ${status}`);
    });
    // an empty HealthCheckRequest (service "" = the whole server)
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

async function httpHealth(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
  return "ok";
}

if (!target) fail("usage: health-probe.mjs grpc://host:port | http://host:port/path");
let url;
try {
  url = new URL(target);
} catch {
  fail(`not a URL: ${target}`);
}
try {
  const result = url.protocol === "grpc:" ? await grpcHealth(url) : await httpHealth(url);
  if (result !== "SERVING" && result !== "ok") fail(result);
  process.exit(0);
} catch (err) {
  fail(err?.message ?? String(err));
}
