import http from "node:http";
import type https from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import { getProxyForUrl } from "proxy-from-env";
import { lazyBuiltin } from "../lazyBuiltin.js";
import type { Clock } from "./clock.js";
import { TransportFailure } from "./errors.js";

/** Loaded on the first https request: a run against a loopback endpoint (tests, the benchmark) never needs TLS. */
const httpsModule = lazyBuiltin<typeof https>("node:https");

/** How long a new connection may take before the attempt counts as a network fault. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** AWS's answers to the calls the pipe makes are a few kilobytes; anything near this is not AWS. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The variables a proxy may come from, in the order proxy-from-env reads them for https. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"];

/**
 * The one HTTP transport of every AWS client (STS, CodeArtifact, ECR): one keep-alive connection
 * pool, the proxy that applies to each host (the AWS SDK for JavaScript ignores HTTPS_PROXY and
 * NO_PROXY by itself), the clock read off every answer's `Date`, answers bounded in size and read
 * whole before the SDK parses them, and transport set-up failures (a proxy's 407, a redirect,
 * an untrusted certificate) named as what they are.
 */
export interface Transport {
  handler: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;
  destroy(): void;
}

type ProxyAgentClasses = {
  HttpsProxyAgent: typeof import("https-proxy-agent").HttpsProxyAgent;
  AgentBase: typeof import("agent-base").Agent;
};

/** The proxy agents, loaded only when a proxy is configured: most runs never pay for their code. */
async function loadProxyAgents(env: NodeJS.ProcessEnv): Promise<ProxyAgentClasses | undefined> {
  if (!PROXY_VARIABLES.some((name) => env[name])) return undefined;
  // CommonJS packages: their exports are the default export once bundled.
  const [httpsProxy, agentBase] = await Promise.all([import("https-proxy-agent"), import("agent-base")]);
  return { HttpsProxyAgent: httpsProxy.default.HttpsProxyAgent, AgentBase: agentBase.default.Agent };
}

/** The variable a proxy URL came from, for messages: its name only, never its value. */
export function proxyVariable(env: NodeJS.ProcessEnv): string {
  return PROXY_VARIABLES.find((name) => env[name]) ?? "HTTPS_PROXY";
}

/**
 * The https agent: direct, or through the proxy that applies to the host (NO_PROXY decides per
 * host, so one agent routes each connection). Plain-http requests never go through a proxy: the
 * only plain-http endpoints allowed are loopback ones, and a proxy would see the step's token.
 */
function httpsAgentFor(
  proxies: ProxyAgentClasses | undefined,
  onProxy: (host: string, proxy: string) => void,
): http.Agent {
  const options = { keepAlive: true, maxSockets: 16 };
  const direct = new (httpsModule().Agent)(options);
  if (proxies === undefined) return direct;
  const { AgentBase, HttpsProxyAgent } = proxies;
  const viaProxy = new Map<string, http.Agent>();
  class RoutingAgent extends AgentBase {
    override connect(_req: http.ClientRequest, opts: import("agent-base").AgentConnectOpts) {
      const host = opts.host ?? "";
      // proxy-from-env reads HTTPS_PROXY/NO_PROXY (either case) from process.env itself.
      const proxy = getProxyForUrl(`https://${host}:${opts.port ?? 443}`) || undefined;
      if (proxy === undefined) return direct;
      let agent = viaProxy.get(proxy);
      if (agent === undefined) {
        agent = new HttpsProxyAgent(proxy, options);
        viaProxy.set(proxy, agent);
        onProxy(host, proxy);
      }
      return agent;
    }
    override destroy() {
      direct.destroy();
      for (const agent of viaProxy.values()) agent.destroy();
      super.destroy();
    }
  }
  return new RoutingAgent(options);
}

/** Reads an answer's body whole, refusing past MAX_ANSWER_BYTES; the caller's abort signal stops it. */
function readBounded(
  body: NodeJS.ReadableStream & { destroy?(error?: Error): void },
  host: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => {
      body.destroy?.(signal?.reason as Error);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);
    body.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        done();
        const failure = new TransportFailure("too-large", host);
        body.destroy?.(failure);
        reject(failure);
        return;
      }
      chunks.push(chunk);
    });
    body.on("error", (error) => {
      done();
      reject(error);
    });
    body.on("end", () => {
      done();
      resolve(Buffer.concat(chunks));
    });
  });
}

export async function createTransport(
  env: NodeJS.ProcessEnv,
  clock: Clock,
  onProxy: (host: string, proxy: string) => void,
): Promise<Transport> {
  const proxies = await loadProxyAgents(env);
  const httpsAgent = httpsAgentFor(proxies, onProxy);
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const inner = new NodeHttpHandler({
    connectionTimeout: CONNECT_TIMEOUT_MS,
    httpAgent,
    httpsAgent: httpsAgent as https.Agent,
  });
  const variable = proxyVariable(env);

  const handler: RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> = {
    metadata: { handlerProtocol: "http/1.1" },
    async handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
      const host = request.hostname;
      let answer: { response: HttpResponse };
      try {
        answer = await inner.handle(request as Parameters<NodeHttpHandler["handle"]>[0], options);
      } catch (error) {
        throw TransportFailure.fromNetwork(error, host) ?? error;
      }
      const { response } = answer;
      clock.observe(response.headers.date ?? response.headers.Date);
      const status = response.statusCode;
      if (status === 407) {
        (response.body as NodeJS.ReadableStream & { destroy?(): void })?.destroy?.();
        throw new TransportFailure("proxy-auth", host, variable);
      }
      if (status >= 300 && status < 400) {
        (response.body as NodeJS.ReadableStream & { destroy?(): void })?.destroy?.();
        throw new TransportFailure("redirect", host, locationHost(response.headers.location));
      }
      const length = Number(response.headers["content-length"]);
      if (Number.isFinite(length) && length > MAX_ANSWER_BYTES) {
        (response.body as NodeJS.ReadableStream & { destroy?(): void })?.destroy?.();
        throw new TransportFailure("too-large", host);
      }
      if (response.body !== undefined && typeof (response.body as NodeJS.ReadableStream).on === "function") {
        response.body = await readBounded(
          response.body as NodeJS.ReadableStream,
          host,
          options?.abortSignal as AbortSignal | undefined,
        );
      }
      return answer;
    },
    updateHttpClientConfig: (key: never, value: never) => inner.updateHttpClientConfig(key, value),
    httpHandlerConfigs: () => inner.httpHandlerConfigs() as HttpHandlerOptions,
    destroy: () => {
      inner.destroy();
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  } as RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> & { destroy(): void };

  return { handler, destroy: () => (handler as { destroy(): void }).destroy() };
}

/** The host a redirect points to: never followed, only named. */
function locationHost(location: string | undefined): string {
  if (location === undefined) return "(no Location)";
  try {
    return new URL(location, "https://invalid.").host;
  } catch {
    return "(an invalid Location)";
  }
}
