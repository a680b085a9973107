// What the operator console costs. First load: bytes over the wire and time until the console is
// usable (signed in, the connections page showing the demo client's status) in Debian's headless
// Chromium, three ways: the gateway's first page ever (it bundles the app with esbuild then), a
// fresh browser (empty cache) and a reload (warm cache). Then the gateway's cost per live viewer
// of a job (the console's progress bars: one SSE stream each, authorised by the session cookie,
// each relaying its own WatchFetchJob stream from the fetcher): resident memory and CPU of the
// gateway process with 0, 1, 50 and 200 viewers open on a job held still (its first stage
// paused), then CPU per event delivered when the stage resumes and the job runs to its end under
// all 200 viewers. The fetcher's CPU is shown beside it: every viewer is a watcher there too.
// Figures only; nothing here asserts.
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { chromium } from "playwright-core";
import type { BenchFn, BenchRow, BenchSize } from "./types.js";
import { createEnvironment, type Environment } from "./harness/environment.js";
import { waitForJob } from "./harness/jobs.js";
import { startNatsServer } from "./harness/nats-server.js";
import { count } from "./harness/table.js";
import { cpuMs } from "./harness/process-cpu.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/helpers/chromium.js";

const STAGES = ["accounts", "locations", "reviews"];
const SIZES: Record<BenchSize, { viewers: number[]; windowMs: number }> = {
  full: { viewers: [1, 50, 200], windowMs: 1_000 },
  reduced: { viewers: [1, 10], windowMs: 1_000 },
};

export const runConsoleBench: BenchFn = async ({ size, log = () => undefined }) => {
  const spec = SIZES[size];
  const nats = await startNatsServer();
  let env: Environment | undefined;
  try {
    env = await createEnvironment({
      label: "bench-console",
      natsUrl: nats.url,
      emulator: { seed: "demo" },
      stack: {
        fetchers: 1,
        gateway: true,
        env: { GATEWAY_RATE_PER_KEY: "0", GATEWAY_RATE_PER_TENANT: "0", GATEWAY_RATE_PER_IP: "0", SYNC_ENABLED: "false" },
      },
    });
    const base = env.stack.gatewayUrl!;
    const admin = env.stack.adminKey;
    const rest = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, any>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const runJob = async () => {
      const { job_id: jobId } = await rest("POST", "/api/v1/review-fetch", { client_id: env!.clientId });
      return jobId as string;
    };
    log("the demo data: one full fetch first, so the console has locations, jobs and reviews");
    const first = await waitForJob(await runJob(), { timeoutMs: 60_000, client: () => env!.stack.fetcher });
    if (!first.ended) throw new Error(`the demo fetch did not end: ${first.lastError ?? "timeout"}`);

    const rows: BenchRow[] = [];
    if (existsSync(CHROMIUM)) rows.push(...(await firstLoad(base, admin, log)));
    else
      rows.push({
        name: "console first load (headless Chromium)",
        figure: `not measured: ${CHROMIUM} is missing (apt-get install chromium)`,
      });
    rows.push(...(await sseViewers(env, rest, runJob, spec, log)));
    return rows;
  } finally {
    await env?.close();
    await nats.close();
  }
};

/** Signs in through the console's own route and returns the session cookie (`name=value`). */
async function signIn(base: string, key: string): Promise<string> {
  const res = await fetch(`${base}/console/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ api_key: key }),
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!res.ok || !cookie) throw new Error(`console sign-in answered ${res.status}`);
  return cookie;
}

async function firstLoad(base: string, key: string, log: (line: string) => void): Promise<BenchRow[]> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const cookie = await signIn(base, key);
    const [name, value] = [cookie.slice(0, cookie.indexOf("=")), cookie.slice(cookie.indexOf("=") + 1)];
    const url = new URL(base);
    /** One load of /console in `page`: bytes received (headers + encoded bodies), requests, ms until the demo client's status shows. */
    const load = async (page: import("playwright-core").Page, how: "goto" | "reload") => {
      let bytes = 0;
      let requests = 0;
      const pending: Promise<void>[] = [];
      const onFinished = (request: import("playwright-core").Request) => {
        requests++;
        pending.push(
          request.sizes().then(
            (s) => void (bytes += s.responseBodySize + s.responseHeadersSize),
            () => undefined,
          ),
        );
      };
      page.on("requestfinished", onFinished);
      const started = performance.now();
      if (how === "goto") await page.goto(`${base}/console`);
      else await page.reload();
      await page
        .locator("[data-testid=connection-status]", { hasText: /^connected$/i })
        .first()
        .waitFor({ timeout: 30_000 });
      const ms = performance.now() - started;
      await page.waitForLoadState("networkidle");
      page.off("requestfinished", onFinished);
      await Promise.all(pending);
      return { ms, bytes, requests };
    };
    const context = await browser.newContext();
    await context.addCookies([{ name, value, domain: url.hostname, path: "/", httpOnly: true, sameSite: "Strict" }]);
    log("first load after the gateway started (the gateway bundles the app on this request)");
    const coldServer = await load(await context.newPage(), "goto");
    await context.close();
    const fresh = await browser.newContext();
    await fresh.addCookies([{ name, value, domain: url.hostname, path: "/", httpOnly: true, sameSite: "Strict" }]);
    const page = await fresh.newPage();
    log("a fresh browser (empty cache), then a reload (warm cache)");
    const cold = await load(page, "goto");
    const warm = await load(page, "reload");
    await fresh.close();
    const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
    return [
      { name: "console first load, fresh browser: bytes received / requests", figure: `${kb(cold.bytes)} in ${cold.requests} requests` },
      { name: "console first load, fresh browser: until usable (demo client's status shown)", figure: `${Math.round(cold.ms)} ms` },
      {
        name: "console first load right after gateway start (bundles the app)",
        figure: `${Math.round(coldServer.ms)} ms, ${kb(coldServer.bytes)}`,
      },
      {
        name: "console reload, warm cache",
        figure: `${Math.round(warm.ms)} ms, ${kb(warm.bytes)} in ${warm.requests} requests`,
        ratio: `${(warm.bytes / cold.bytes).toFixed(2)} × the bytes of a fresh load`,
      },
    ];
  } finally {
    await browser.close();
  }
}

async function sseViewers(
  env: Environment,
  rest: (method: string, path: string, body?: unknown) => Promise<Record<string, any>>,
  runJob: () => Promise<string>,
  spec: { viewers: number[]; windowMs: number },
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const base = env.stack.gatewayUrl!;
  const gatewayPid = env.stack.gatewayService!.pid;
  const fetcherPid = env.stack.fetcherServices[0]!.pid;
  const cookie = await signIn(base, env.stack.adminKey);
  // the job stands still while its stages are paused (it may start at any of them): every viewer's stream stays open
  for (const stage of STAGES) await rest("POST", `/api/v1/stages/${stage}/pause`);
  const jobId = await runJob();
  const viewers: Viewer[] = [];
  const rows: BenchRow[] = [];
  try {
    const sample = async (n: number) => {
      await new Promise((r) => setTimeout(r, 300));
      const g0 = cpuMs(gatewayPid);
      const f0 = cpuMs(fetcherPid);
      const started = performance.now();
      // RSS moves with the garbage collector: the median of samples over the window
      const rss: number[] = [];
      while (performance.now() - started < spec.windowMs) {
        rss.push(rssKb(gatewayPid));
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      rss.sort((a, b) => a - b);
      return {
        n,
        rssKb: rss[Math.floor(rss.length / 2)]!,
        gatewayCpu: (cpuMs(gatewayPid) - g0) / seconds,
        fetcherCpu: (cpuMs(fetcherPid) - f0) / seconds,
      };
    };
    log(`viewers on a job held still: 0, ${spec.viewers.join(", ")} (a ${spec.windowMs} ms window each)`);
    const idle = await sample(0);
    const levels = [];
    for (const n of spec.viewers) {
      // in batches, as tabs opening at once would (and a burst of hundreds would fill the listen backlog)
      while (viewers.length < n) {
        const batch = Math.min(25, n - viewers.length);
        viewers.push(...(await Promise.all(Array.from({ length: batch }, () => openViewer(base, jobId, cookie)))));
      }
      levels.push(await sample(n));
    }
    rows.push({ name: "gateway with no viewer (job held still)", figure: `RSS ${mb(idle.rssKb)}, CPU ${idle.gatewayCpu.toFixed(0)} ms/s` });
    for (const level of levels) {
      const perViewerKb = (level.rssKb - idle.rssKb) / level.n;
      rows.push({
        name: `${count(level.n)} SSE viewer${level.n === 1 ? "" : "s"} open (job held still)`,
        figure: `gateway RSS ${mb(level.rssKb)}, CPU ${level.gatewayCpu.toFixed(0)} ms/s; fetcher CPU ${level.fetcherCpu.toFixed(0)} ms/s`,
        ratio: `per viewer: gateway ${perViewerKb.toFixed(0)} kB RSS, ${((level.gatewayCpu - idle.gatewayCpu) / level.n).toFixed(2)} ms/s CPU; fetcher ${((level.fetcherCpu - idle.fetcherCpu) / level.n).toFixed(2)} ms/s CPU`,
      });
    }
    const n = viewers.length;
    log(`the job runs to its end under ${n} viewers`);
    const events0 = viewers.reduce((sum, v) => sum + v.events(), 0);
    const g0 = cpuMs(gatewayPid);
    const f0 = cpuMs(fetcherPid);
    const started = performance.now();
    for (const stage of STAGES) await rest("POST", `/api/v1/stages/${stage}/resume`);
    await Promise.all(viewers.map((v) => v.ended));
    const ms = performance.now() - started;
    const gatewayCpu = cpuMs(gatewayPid) - g0;
    const fetcherCpu = cpuMs(fetcherPid) - f0;
    const events = viewers.reduce((sum, v) => sum + v.events(), 0) - events0;
    rows.push({
      name: `a job running to its end under ${count(n)} viewers`,
      figure: `${count(events)} events delivered in ${(ms / 1000).toFixed(1)} s; gateway CPU ${count(gatewayCpu)} ms, fetcher CPU ${count(fetcherCpu)} ms`,
      ratio: `${((gatewayCpu * 1000) / Math.max(1, events)).toFixed(0)} µs gateway CPU per event delivered`,
    });
    return rows;
  } finally {
    for (const v of viewers) v.close();
    for (const stage of STAGES) await rest("POST", `/api/v1/stages/${stage}/resume`).catch(() => undefined);
  }
}

interface Viewer {
  events(): number;
  /** Resolves when the stream ends (the job ended, or it was closed). */
  ended: Promise<void>;
  close(): void;
}

/** One console tab watching the job: `GET /api/v1/jobs/{id}/events` with the session cookie, on its own connection. */
function openViewer(base: string, jobId: string, cookie: string): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let endStream: () => void = () => undefined;
    const ended = new Promise<void>((r) => (endStream = r));
    const req = http.get(
      `${base}/api/v1/jobs/${jobId}/events`,
      { agent: false, headers: { cookie, accept: "text/event-stream" } },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`events answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding("utf8");
        let buffer = "";
        let opened = false;
        res.on("data", (chunk: string) => {
          // events are blocks ending in a blank line; a chunk may end mid-block
          const blocks = (buffer + chunk).split("\n\n");
          buffer = blocks.pop() ?? "";
          events += blocks.filter((b) => b.split("\n").includes("event: job")).length;
          if (!opened && events > 0) {
            opened = true;
            resolve({ events: () => events, ended, close: () => req.destroy() });
          }
        });
        res.on("end", endStream);
        res.on("close", endStream);
      },
    );
    req.on("error", (err) => {
      endStream();
      reject(err);
    });
  });
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

/** Resident memory of a process in kB (Linux /proc; NaN elsewhere). */
function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}
