import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";

/**
 * A forward proxy on 127.0.0.1, as a corporate proxy would be: plain-http requests in absolute
 * form and CONNECT tunnels for https. It records every target it served.
 */
export interface Proxy {
  url: string;
  targets: string[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Every CONNECT goes to 127.0.0.1 at this port, whatever host it names (e.g. a TLS front standing for AWS). */
  connectTo?: number;
  /** `user:password` the proxy demands (Proxy-Authorization: Basic); anything else gets 407. */
  credentials?: string;
}

export async function startProxy(options: ProxyOptions = {}): Promise<Proxy> {
  const authorized = (req: http.IncomingMessage) =>
    options.credentials === undefined ||
    req.headers["proxy-authorization"] === `Basic ${Buffer.from(options.credentials).toString("base64")}`;
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    if (!authorized(req)) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="corp"' }).end();
      return;
    }
    const target = new URL(req.url ?? "/");
    targets.push(`${req.method} ${target.host}${target.pathname}`);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(`CONNECT ${req.url}`);
    if (!authorized(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(
      options.connectTo ?? Number(port),
      options.connectTo === undefined ? (host ?? "127.0.0.1") : "127.0.0.1",
      () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      },
    );
    upstream.on("error", () => client.destroy());
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
