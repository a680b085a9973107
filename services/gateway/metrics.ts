import { Counter, createMetricsRegistry, Histogram, type Registry } from "../../lib/metrics/index.js";

/**
 * The gateway's Prometheus series. `route` is a template (`/clients/{id}`), an RPC path
 * (`/reviewflow.token.v1.TokenService/GetClient`) or `unmatched`: never a raw URL, so the label
 * set stays bounded whatever callers send.
 */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<"route" | "method" | "status">;
  duration: Histogram<"route" | "method">;
  limited: Counter<"scope">;
  sseStreams: Counter<"outcome">;
  /** Pub/Sub push requests, by outcome (accepted, duplicate, rejected, malformed, ignored, unavailable). */
  notifications: Counter<"outcome" | "receiver">;
}

export function createGatewayMetrics(options: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = createMetricsRegistry("gateway", options);
  return {
    registry,
    requests: new Counter({
      name: "reviewflow_gateway_requests_total",
      help: "HTTP requests answered by the gateway, by route template, HTTP method and status.",
      labelNames: ["route", "method", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "reviewflow_gateway_request_duration_seconds",
      help: "Time from request to response headers (to stream end for event streams).",
      labelNames: ["route", "method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    limited: new Counter({
      name: "reviewflow_gateway_rate_limited_total",
      help: "Requests refused with 429 by the gateway's own limiters, by scope (key, tenant, ip).",
      labelNames: ["scope"],
      registers: [registry],
    }),
    sseStreams: new Counter({
      name: "reviewflow_gateway_sse_streams_total",
      help: "Server-Sent Events streams, by how they ended (completed, error, client_closed, shutdown).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    notifications: new Counter({
      name: "reviewflow_notifications_total",
      help: "Google review notifications, by receiver and outcome: at a receiver accepted (handed on), duplicate (a redelivery JetStream dropped by message id), rejected (push token refused), malformed, ignored (not a review type), unavailable (NATS away: Pub/Sub redelivers).",
      labelNames: ["receiver", "outcome"],
      registers: [registry],
    }),
  };
}
