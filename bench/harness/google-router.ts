// One Google origin in front of several emulators, one per Google project (OAuth client): every
// emulator client sees all of its emulator's accounts, so projects that must not share
// locations each get an emulator of their own, and the services (whose GOOGLE_* URLs name one
// origin) reach the right one through this router. A request goes to the emulator of the client
// it names (`client_id` in the query or the form, or HTTP Basic credentials) or of the token it
// carries (Bearer, `access_token`, `token`), learnt from that emulator's /token answers.
import http from "node:http";
import type net from "node:net";
import type { GoogleEmulator } from "../../emulator/index.js";

export interface GoogleRouter {
  url: string;
  /** Requests that named no known client or token (sent to the first emulator). */
  readonly unrouted: number;
  close(): Promise<void>;
}

export async function startGoogleRouter(byClient: ReadonlyMap<string, GoogleEmulator>): Promise<GoogleRouter> {
  const emulators = [...byClient.values()];
  if (emulators.length === 0) throw new Error("startGoogleRouter needs at least one emulator");
  const byToken = new Map<string, GoogleEmulator>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<net.Socket>();
  let unrouted = 0;

  const route = (req: http.IncomingMessage, url: URL, body: Buffer): GoogleEmulator | undefined => {
    const form = /x-www-form-urlencoded/i.test(req.headers["content-type"] ?? "")
      ? new URLSearchParams(body.toString("utf8"))
      : new URLSearchParams();
    const clientId = url.searchParams.get("client_id") ?? form.get("client_id") ?? basicClientId(req.headers.authorization);
    if (clientId && byClient.has(clientId)) return byClient.get(clientId);
    const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? "")?.[1];
    for (const token of [
      bearer,
      url.searchParams.get("access_token"),
      url.searchParams.get("token"),
      form.get("token"),
      form.get("access_token"),
    ]) {
      const found = token ? byToken.get(token) : undefined;
      if (found) return found;
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://router");
      let target = route(req, url, body);
      if (!target) {
        unrouted++;
        target = emulators[0]!;
      }
      const origin = new URL(target.url);
      const learn = url.pathname === "/token";
      const upstream = http.request(
        {
          hostname: origin.hostname,
          port: origin.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: origin.host },
          agent,
        },
        (answer) => {
          if (!learn) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            return;
          }
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("end", () => {
            const text = Buffer.concat(parts);
            try {
              const tokens = JSON.parse(text.toString("utf8")) as { access_token?: string; refresh_token?: string };
              if (tokens.access_token) byToken.set(tokens.access_token, target);
              if (tokens.refresh_token) byToken.set(tokens.refresh_token, target);
            } catch {
              // an error page: nothing to learn
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(text);
          });
        },
      );
      upstream.on("error", (err) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`router: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get unrouted() {
      return unrouted;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}

function basicClientId(header: string | undefined): string | undefined {
  const encoded = /^Basic\s+(\S+)/i.exec(header ?? "")?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon));
  } catch {
    return decoded.slice(0, colon);
  }
}
