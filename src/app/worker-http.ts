import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The HTTP face of a worker (VEX_ROLE=worker): GET /healthz (liveness), /readyz (store reachable)
 * and /metrics (Prometheus), as the API serves them; no GraphQL.
 */
export const createWorkerHttpServer = (options: {
  ready: () => Promise<void>;
  metrics: () => Promise<{ contentType: string; body: string }>;
}) => {
  const json = (status: number, body: unknown) => ({
    status,
    type: "application/json; charset=utf-8",
    body: JSON.stringify(body),
  });
  const answer = async (path: string | undefined) => {
    switch (path) {
      case "/healthz":
        return json(200, { status: "ok" });
      case "/readyz":
        return options.ready().then(
          () => json(200, { status: "ready" }),
          () => json(503, { status: "unavailable", reason: "store unreachable" }),
        );
      case "/metrics": {
        const { contentType, body } = await options.metrics();
        return { status: 200, type: contentType, body };
      }
      default:
        return json(404, { status: "not found" });
    }
  };
  const server = createServer((req, res) => {
    const path = req.method === "GET" ? req.url?.split("?")[0] : undefined;
    void answer(path).then(
      ({ status, type, body }) => res.writeHead(status, { "content-type": type }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return {
    listen: (port: number, host: string) =>
      new Promise<{ url: string; port: number }>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
