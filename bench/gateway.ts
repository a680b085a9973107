// What the gateway costs: ValidateToken as REST (`GET /tokens/validate/{client_id}`) through the
// gateway, next to the same call over gRPC straight to the TokenService, in one run against the
// same services (child processes, as `npm run token|gateway` starts them). Latency from
// sequential calls (interleaved in rounds so drift hits both alike); throughput from a fixed
// number of concurrent callers over a fixed time. The gateway's limits are lifted for the run.
// Then the same throughput while 2,000 idle keep-alive connections are held open on the gateway
// (each has had one answer and sends nothing more), as a ratio to the runs without them.
import http from "node:http";
import net from "node:net";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { createEnvironment } from "./harness/environment.js";
import { startNatsServer } from "./harness/nats-server.js";
import { count } from "./harness/table.js";
import { cpuMs } from "./harness/process-cpu.js";

const SIZES: Record<BenchSize, { rounds: number; perRound: number; warmup: number; concurrency: number; throughputMs: number }> = {
  full: { rounds: 10, perRound: 200, warmup: 300, concurrency: 16, throughputMs: 5_000 },
  reduced: { rounds: 4, perRound: 50, warmup: 50, concurrency: 8, throughputMs: 1_000 },
};

const P50_TARGET_MS = 1;
const IDLE_CONNECTIONS = 2_000;
const THROUGHPUT_TARGET = 0.8;
/** Issue 17: the gateway spends no more CPU on a proxied call than the service behind it on that call. */
const CPU_RATIO_TARGET = 1;

export const runGatewayBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const nats = await startNatsServer();
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  try {
    const env = await createEnvironment({
      label: "bench-gateway",
      natsUrl: nats.url,
      emulator: { seed: "tiny" },
      stack: { fetchers: 1, gateway: true, env: { GATEWAY_RATE_PER_KEY: "0", GATEWAY_RATE_PER_TENANT: "0", GATEWAY_RATE_PER_IP: "0" } },
    });
    try {
      const clientId = env.clientId;
      const gatewayUrl = new URL(`${env.stack.gatewayUrl!}/tokens/validate/${clientId}`);
      const viaGateway = () => getJson(agent, gatewayUrl, env.stack.adminKey);
      const direct = async () => void (await env.stack.token.validateToken({ clientId }));

      log(`warm-up: ${spec.warmup} calls each way`);
      for (let i = 0; i < spec.warmup; i++) {
        await direct();
        await viaGateway();
      }

      log(`latency: ${spec.rounds} rounds of ${spec.perRound} sequential calls each way`);
      const directMs: number[] = [];
      const gatewayMs: number[] = [];
      // CPU the processes spent, a figure the box's other load hardly changes (unlike latency)
      const gatewayPid = env.stack.gatewayService!.pid;
      const tokenPid = env.stack.tokenService.pid;
      let gatewayCpu = 0;
      let tokenCpuDirect = 0;
      for (let round = 0; round < spec.rounds; round++) {
        const t0 = cpuMs(tokenPid);
        directMs.push(...(await timeEach(direct, spec.perRound)));
        tokenCpuDirect += cpuMs(tokenPid) - t0;
        const g0 = cpuMs(gatewayPid);
        gatewayMs.push(...(await timeEach(viaGateway, spec.perRound)));
        gatewayCpu += cpuMs(gatewayPid) - g0;
      }
      const d = percentiles(directMs);
      const g = percentiles(gatewayMs);
      const addedP50 = g.p50 - d.p50;
      const cpuRatio = gatewayCpu / gatewayMs.length / (tokenCpuDirect / directMs.length);

      log(`throughput: ${spec.concurrency} concurrent callers for ${spec.throughputMs} ms each way`);
      const directRate = await throughput(direct, spec.concurrency, spec.throughputMs);
      const gatewayRate = await throughput(viaGateway, spec.concurrency, spec.throughputMs);
      const ratio = gatewayRate / directRate;

      log(`throughput with ${count(IDLE_CONNECTIONS)} idle connections held open on the gateway, then without them again`);
      const idle = await holdIdleConnections(new URL(env.stack.gatewayUrl!), IDLE_CONNECTIONS);
      const withIdleRate = await throughput(viaGateway, spec.concurrency, spec.throughputMs);
      const stillOpen = idle.open();
      idle.close();
      const afterRate = await throughput(viaGateway, spec.concurrency, spec.throughputMs);
      // the runs before and after bracket the one with idle connections, so drift hits both sides
      const idleRatio = withIdleRate / ((gatewayRate + afterRate) / 2);

      const rows: BenchRow[] = [
        {
          name: "ValidateToken over gRPC to the TokenService (direct)",
          figure: `p50 ${ms(d.p50)}, p99 ${ms(d.p99)} (${count(directMs.length)} calls)`,
        },
        {
          name: "ValidateToken as REST through the gateway",
          figure: `p50 ${ms(g.p50)}, p99 ${ms(g.p99)} (${count(gatewayMs.length)} calls)`,
          ratio: `+${ms(addedP50)} at p50 over direct`,
          target: `≤ ${P50_TARGET_MS} ms added`,
          met: addedP50 <= P50_TARGET_MS,
        },
        {
          name: "CPU per call: gateway process (REST in, gRPC out) next to the TokenService's own",
          figure: Number.isNaN(gatewayCpu)
            ? "not measured (no /proc)"
            : `${count((gatewayCpu / gatewayMs.length) * 1000)} µs gateway, ${count((tokenCpuDirect / directMs.length) * 1000)} µs TokenService`,
          ...(Number.isNaN(cpuRatio)
            ? {}
            : {
                ratio: `${cpuRatio.toFixed(2)} × the TokenService's`,
                target: `≤ ${CPU_RATIO_TARGET} ×`,
                met: cpuRatio <= CPU_RATIO_TARGET,
              }),
        },
        { name: `throughput direct (${spec.concurrency} concurrent callers)`, figure: `${count(directRate)} calls/s` },
        {
          name: `throughput through the gateway (${spec.concurrency} concurrent callers)`,
          figure: `${count(gatewayRate)} calls/s`,
          ratio: `${ratio.toFixed(2)} × direct`,
          target: `≥ ${THROUGHPUT_TARGET}`,
          met: ratio >= THROUGHPUT_TARGET,
        },
        {
          name: `throughput through the gateway while ${count(IDLE_CONNECTIONS)} idle keep-alive connections are held open`,
          figure: `${count(withIdleRate)} calls/s (${count(stillOpen)} of ${count(IDLE_CONNECTIONS)} still open; without them ${count(gatewayRate)} before, ${count(afterRate)} after)`,
          ratio: `${idleRatio.toFixed(2)} × without them`,
        },
      ];
      return rows;
    } finally {
      await env.close();
    }
  } finally {
    agent.destroy();
    await nats.close();
  }
};

/** A keep-alive HTTP/1.1 GET, as curl or any REST client sends it; rejects unless 200. */
function getJson(agent: http.Agent, url: URL, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${key}`, accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`gateway answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`)),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * Opens `n` HTTP/1.1 connections to the gateway, each asking `GET /health` once with keep-alive
 * and then sending nothing: what idle browsers, proxies and abandoned clients leave behind.
 */
async function holdIdleConnections(base: URL, n: number): Promise<{ open(): number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const openOne = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(base.port), base.hostname);
      socket.setNoDelay(true);
      socket.on("error", reject);
      socket.once("close", () => sockets.delete(socket));
      socket.once("data", () => resolve());
      socket.on("data", () => undefined);
      socket.write(`GET /health HTTP/1.1\r\nHost: ${base.host}\r\nConnection: keep-alive\r\n\r\n`);
      sockets.add(socket);
    });
  // in batches: a burst of thousands of SYNs would overflow the listen backlog
  for (let opened = 0; opened < n; opened += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - opened) }, openOne));
  }
  return {
    open: () => sockets.size,
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function timeEach(call: () => Promise<void>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    out.push(performance.now() - started);
  }
  return out;
}

async function throughput(call: () => Promise<void>, concurrency: number, durationMs: number): Promise<number> {
  const until = performance.now() + durationMs;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await call();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}
