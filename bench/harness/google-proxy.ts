// A pass-through HTTP proxy in front of the Google emulator whose target can be switched: the
// drills run several scenarios on one set of services (their GOOGLE_* URLs fixed at start-up),
// each against a freshly seeded Google of its own.
import http from "node:http";
import type net from "node:net";

export interface GoogleProxy {
  url: string;
  setTarget(origin: string): void;
  close(): Promise<void>;
}

export async function startGoogleProxy(initialTarget: string): Promise<GoogleProxy> {
  let target = new URL(initialTarget);
  const sockets = new Set<net.Socket>();
  const newAgent = () => new http.Agent({ keepAlive: true, maxSockets: 256 });
  let agent = newAgent();
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget(origin) {
      target = new URL(origin);
      // connections to the old target must not be reused for the new one
      agent.destroy();
      agent = newAgent();
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
