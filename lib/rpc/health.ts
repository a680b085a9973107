import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/**
 * grpc.health.v1 state: "" is the whole server, other keys are fully-qualified service names.
 * Setting NOT_SERVING on shutdown tells load balancers to drain before the port closes.
 */
export interface HealthState {
  set(service: string, status: ServingStatus): void;
  get(service: string): ServingStatus | undefined;
  all(): ReadonlyMap<string, ServingStatus>;
  /** Resolves on the next change of `service`, or when `signal` aborts. */
  changed(service: string, signal: AbortSignal): Promise<void>;
}

export function createHealthState(services: string[]): HealthState {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const name of services) statuses.set(name, ServingStatus.SERVING);
  const waiters = new Set<{ service: string; wake: () => void }>();
  return {
    set(service, status) {
      statuses.set(service, status);
      for (const waiter of [...waiters]) if (waiter.service === service || service === "") waiter.wake();
    },
    get: (service) => statuses.get(service),
    all: () => statuses,
    changed(service, signal) {
      return new Promise<void>((resolve) => {
        const waiter = { service, wake: () => finish() };
        const finish = () => {
          waiters.delete(waiter);
          signal.removeEventListener("abort", finish);
          resolve();
        };
        waiters.add(waiter);
        signal.addEventListener("abort", finish, { once: true });
      });
    },
  };
}

const response = (status: ServingStatus): HealthCheckResponse => create(HealthCheckResponseSchema, { status });

export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check(req) {
      const status = state.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return response(status);
    },
    async *watch(req, ctx) {
      // per the health protocol, an unknown service streams SERVICE_UNKNOWN rather than failing
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const status = state.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield response(status);
        }
        await state.changed(req.service, ctx.signal);
      }
    },
    list() {
      return { statuses: Object.fromEntries([...state.all()].map(([name, status]) => [name, response(status)])) };
    },
  });
}
