import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { HttpRequest } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClock } from "../../src/aws/clock.ts";
import { TransportFailure } from "../../src/aws/errors.ts";
import { createTransport, MAX_ANSWER_BYTES, proxyVariable } from "../../src/aws/transport.ts";
import { makeCertificates } from "../support/tls.ts";

/**
 * The one HTTP transport (src/aws/transport.ts), on a scripted local server: answers read whole
 * and bounded, the clock read off `Date`, and a proxy's 407, a redirect, an oversized answer or an
 * untrusted certificate named as what they are. (Proxies end to end: test/security/transport.test.ts.)
 */

type Script = (request: IncomingMessage, response: ServerResponse) => void;
let script: Script = (_, response) => response.end();
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) => script(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const request = (overrides: Partial<HttpRequest> = {}): HttpRequest => ({
  method: "POST",
  protocol: "http:",
  hostname: "127.0.0.1",
  port,
  path: "/",
  query: {},
  headers: { host: `127.0.0.1:${port}` },
  body: "Action=GetCallerIdentity",
  ...overrides,
});

/** One request through a fresh transport; the answer with its body read, or the failure. */
async function send(env: NodeJS.ProcessEnv = {}, overrides: Partial<HttpRequest> = {}) {
  const clock = createClock();
  const transport = await createTransport(env, clock, () => {});
  try {
    const { response } = await transport.handler.handle(request(overrides));
    return { response, clock, body: Buffer.from(response.body as Uint8Array).toString() };
  } catch (error) {
    return { error, clock };
  } finally {
    transport.destroy();
  }
}

describe("answers", () => {
  it("reads the body whole before the SDK parses it, and the clock off its Date", async () => {
    const ahead = new Date(Date.now() + 10 * 60_000);
    script = (_, response) => {
      response.writeHead(200, { date: ahead.toUTCString(), "content-type": "text/xml" });
      response.write("<a>");
      response.end("</a>");
    };
    const { response, body, clock } = await send();
    expect(response?.statusCode).toBe(200);
    expect(body).toBe("<a></a>");
    expect(clock.offsetMs()).toBeGreaterThan(9 * 60_000);
  });

  it("refuses an answer over 1 MiB: announced by its length, or as it streams", async () => {
    script = (_, response) => {
      response.writeHead(200, { "content-length": String(MAX_ANSWER_BYTES + 1) });
      response.end();
    };
    const announced = await send();
    expect(announced.error).toBeInstanceOf(TransportFailure);
    expect(announced.error).toMatchObject({ failure: "too-large", host: "127.0.0.1" });

    script = (_, response) => {
      response.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, "a");
      for (let i = 0; i < 17; i++) response.write(chunk);
      response.end();
    };
    expect((await send()).error).toMatchObject({ failure: "too-large" });

    script = (_, response) => response.end(Buffer.alloc(MAX_ANSWER_BYTES, "a"));
    expect((await send()).body).toHaveLength(MAX_ANSWER_BYTES);
  });
});

describe("the way to AWS", () => {
  it("a 407 names the proxy variable, never its value", async () => {
    script = (_, response) => {
      response.writeHead(407, { "proxy-authenticate": "Basic" });
      response.end("denied");
    };
    const { error } = await send({ https_proxy: "http://user:pass@proxy.example:3128" });
    expect(error).toMatchObject({ failure: "proxy-auth", detail: "https_proxy" });
    expect(JSON.stringify(error)).not.toContain("pass");
  });

  it("a redirect is never followed, only its host named", async () => {
    let calls = 0;
    script = (_, response) => {
      calls++;
      response.writeHead(302, { location: "https://evil.example/login?x=1" });
      response.end();
    };
    expect((await send()).error).toMatchObject({ failure: "redirect", detail: "evil.example" });
    expect(calls).toBe(1);
    script = (_, response) => {
      response.writeHead(301);
      response.end();
    };
    expect((await send()).error).toMatchObject({ failure: "redirect", detail: "(no Location)" });
  });

  it("a certificate the runner does not trust is a TLS failure naming the host", async () => {
    const certificates = makeCertificates(["localhost"]);
    const tlsServer = createHttpsServer({ key: certificates.key, cert: certificates.cert }, (_, response) =>
      response.end("never"),
    );
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
    try {
      const tlsPort = (tlsServer.address() as AddressInfo).port;
      const { error } = await send({}, { protocol: "https:", hostname: "localhost", port: tlsPort });
      expect(error).toBeInstanceOf(TransportFailure);
      expect(error).toMatchObject({ failure: "tls", host: "localhost" });
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      certificates.remove();
    }
  });

  it("a connection refused is the network's fault, passed on for the retry policy", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { error } = await send({}, { port: closedPort });
    expect(error).not.toBeInstanceOf(TransportFailure);
    expect((error as { code?: string }).code).toBe("ECONNREFUSED");
  });
});

describe("proxyVariable", () => {
  it("names the variable the proxy came from, in proxy-from-env's order for https", () => {
    expect(proxyVariable({ HTTP_PROXY: "a", https_proxy: "b" })).toBe("https_proxy");
    expect(proxyVariable({ ALL_PROXY: "a", http_proxy: "b" })).toBe("ALL_PROXY");
    expect(proxyVariable({})).toBe("HTTPS_PROXY");
  });
});
