// Waiting for a service to be ready, the way an operator's probe would ask: grpc.health.v1 for
// the gRPC services, plain HTTP for the gateway and the emulator. A child that dies while we
// wait fails the wait at once, with its last log lines.
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { createServiceClient } from "../../lib/rpc/service-client.js";
import { describeExit, type ChildService } from "./child-service.js";

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    reason: string,
    readonly logLines: string[] = [],
  ) {
    super(`${service} ${reason}`);
    this.name = "ServiceStartError";
  }
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs?: number;
  /** Fail at once if this child exits. */
  child?: ChildService;
  intervalMs?: number;
}

/** One grpc.health.v1 Check of the whole server (service ""); true when SERVING. */
export async function grpcHealthy(baseUrl: string, timeoutMs = 2_000): Promise<boolean> {
  const client = createServiceClient(Health, baseUrl);
  try {
    const res = await client.check({ service: "" }, { timeoutMs });
    return res.status === HealthCheckResponse_ServingStatus.SERVING;
  } catch (err) {
    if (err instanceof ConnectError && err.code !== Code.Unavailable && err.code !== Code.DeadlineExceeded) throw err;
    return false;
  }
}

/** One GET; true on a 2xx answer. */
export async function httpHealthy(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Polls `probe` until it answers true, the child dies, or the time is up. */
export async function waitUntilHealthy(name: string, probe: () => Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const interval = options.intervalMs ?? 150;
  let lastError = "";
  for (;;) {
    if (options.child && !options.child.running()) {
      const info = await options.child.exited;
      throw new ServiceStartError(name, `${describeExit(info)} before it became healthy`, options.child.recentLines());
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new ServiceStartError(
        name,
        `was not healthy after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s${lastError ? ` (${lastError})` : ""}`,
        options.child?.recentLines() ?? [],
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
