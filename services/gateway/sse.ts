import { toJson, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { REST_JSON_WRITE_OPTIONS, restErrorOf } from "../../lib/rest/index.js";
import { restErrorFrom, sendError, type HttpResponse } from "./http-io.js";

export interface SseOptions {
  /** The stream's message type: names the events. */
  output: DescMessage;
  keepAliveMs: number;
  /** Aborted with reason "client_closed" when the client goes away, "shutdown" when the gateway stops: stops the upstream call. */
  abort: AbortController;
  /** How the stream ended, for the metrics. */
  onEnd?: (outcome: SseOutcome) => void;
}

/**
 * Relays a server stream as Server-Sent Events. A message with a single field (WatchFetchJob's
 * `{job}`) is sent as that field: `event: job` / `data: <the job's JSON>`; other messages as
 * `event: message` with the whole message. The stream ends with `event: end` (data says why),
 * after an `event: error` if the upstream failed mid-way; comments keep idle proxies from
 * closing the connection. A failure before the first message is an ordinary JSON error with its
 * HTTP status (404 for an unknown job, 401, …), since no event has been promised yet.
 */
export type SseOutcome = "completed" | "error" | "client_closed" | "shutdown";

/** The field a stream's message is sent as (its only field), or undefined: the whole message, as `message`. */
export function sseField(output: DescMessage): DescField | undefined {
  return output.fields.length === 1 ? output.fields[0] : undefined;
}

export async function relayAsSse(res: HttpResponse, stream: AsyncIterable<Message>, options: SseOptions): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  let first: IteratorResult<Message>;
  try {
    first = await iterator.next();
  } catch (err) {
    options.onEnd?.(aborted(options.abort) ?? "error");
    sendError(res, restErrorFrom(err));
    return;
  }
  const single = sseField(options.output);
  const eventName = single?.name ?? "message";
  const encode = (message: Message) => {
    const json = toJson(options.output, message, REST_JSON_WRITE_OPTIONS) as Record<string, unknown>;
    return JSON.stringify(single ? (json[single.name] ?? null) : json);
  };

  const headers: Record<string, string> = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  };
  res.writeHead(200, headers);
  const write = (text: string) => {
    if (!res.writableEnded && !res.destroyed) res.write(text);
  };
  // ask EventSource to wait before reconnecting; clients should close on `end` anyway
  write("retry: 5000\n\n");
  const keepAlive = setInterval(() => write(": keep-alive\n\n"), options.keepAliveMs);
  let id = 0;
  let outcome: SseOutcome = "completed";
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      write(`id: ${++id}\nevent: ${eventName}\ndata: ${encode(next.value)}\n\n`);
    }
  } catch (err) {
    const stopped = aborted(options.abort);
    if (stopped) {
      outcome = stopped;
    } else {
      outcome = "error";
      const { body } = restErrorOf(ConnectError.from(err));
      write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
    }
  } finally {
    clearInterval(keepAlive);
  }
  if (outcome !== "client_closed") write(`event: end\ndata: ${JSON.stringify({ reason: outcome })}\n\n`);
  res.end();
  options.onEnd?.(outcome);
}

function aborted(abort: AbortController): "client_closed" | "shutdown" | undefined {
  if (!abort.signal.aborted) return undefined;
  return abort.signal.reason === "shutdown" ? "shutdown" : "client_closed";
}
