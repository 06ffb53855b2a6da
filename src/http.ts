import http from "node:http";
import type https from "node:https";
import { getProxyForUrl } from "proxy-from-env";
import { lazyBuiltin } from "./lazyBuiltin.js";

/** Loaded on the first https request: a run against a loopback endpoint (tests, the benchmark) never needs TLS. */
const httpsModule = lazyBuiltin<typeof https>("node:https");

/**
 * The AWS SDK for JavaScript ignores HTTPS_PROXY/HTTP_PROXY/NO_PROXY; self-hosted runners behind
 * a corporate proxy need them. One keep-alive agent per (scheme, proxy) is shared by every call,
 * so the calls after the assume reuse its connection instead of paying another TLS handshake.
 */
export interface HttpAgents {
  /** The agent for a request to `url`: keep-alive, through the proxy that applies to it. */
  agentFor(url: string): http.Agent;
  /** The proxy a request to `url` goes through, for the log. */
  proxyFor(url: string): string | undefined;
  destroy(): void;
}

/** How long a new connection may take before the attempt counts as a network fault. */
export const CONNECT_TIMEOUT_MS = 5_000;
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

type ProxyAgents = {
  HttpProxyAgent: typeof import("http-proxy-agent").HttpProxyAgent;
  HttpsProxyAgent: typeof import("https-proxy-agent").HttpsProxyAgent;
};

/** The proxy agents, loaded only when a proxy is configured: most runs never pay for their code. */
async function loadProxyAgents(env: NodeJS.ProcessEnv): Promise<ProxyAgents | undefined> {
  if (!PROXY_VARIABLES.some((name) => env[name])) return undefined;
  // CommonJS packages: their exports are the default export once bundled.
  const [httpProxy, httpsProxy] = await Promise.all([
    import("http-proxy-agent"),
    import("https-proxy-agent"),
  ]);
  return {
    HttpProxyAgent: httpProxy.default.HttpProxyAgent,
    HttpsProxyAgent: httpsProxy.default.HttpsProxyAgent,
  };
}

export async function createHttpAgents(env: NodeJS.ProcessEnv = process.env): Promise<HttpAgents> {
  const proxyAgents = await loadProxyAgents(env);
  const agents = new Map<string, http.Agent>();

  // proxy-from-env reads HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) from process.env itself.
  const proxyFor = (url: string): string | undefined =>
    proxyAgents === undefined ? undefined : getProxyForUrl(url) || undefined;

  const makeAgent = (secure: boolean, proxy: string | undefined): http.Agent => {
    const options = { keepAlive: true, maxSockets: 16 };
    if (proxy !== undefined && proxyAgents !== undefined) {
      return secure
        ? new proxyAgents.HttpsProxyAgent(proxy, options)
        : new proxyAgents.HttpProxyAgent(proxy, options);
    }
    return secure ? new (httpsModule().Agent)(options) : new http.Agent(options);
  };

  return {
    proxyFor,
    agentFor(url) {
      const secure = new URL(url).protocol === "https:";
      const proxy = proxyFor(url);
      const key = `${secure}|${proxy ?? ""}`;
      let agent = agents.get(key);
      if (agent === undefined) {
        agent = makeAgent(secure, proxy);
        agents.set(key, agent);
      }
      return agent;
    },
    destroy() {
      for (const agent of agents.values()) agent.destroy();
    },
  };
}

/** An HTTP answer, read whole: AWS's answers to the calls the pipe makes are a few kilobytes. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One POST through `agent`. Network faults reject with Node's own errors (their `code`, e.g.
 * ECONNRESET, is what the retry policy reads); a connection that does not open within
 * CONNECT_TIMEOUT_MS rejects with ETIMEDOUT; `signal` aborts with its reason. `onSent` runs once
 * the request has left, while the answer is on its way: the time to load what comes next.
 */
export function postRequest(
  url: URL,
  headers: Record<string, string>,
  body: string,
  agent: http.Agent,
  signal: AbortSignal,
  onSent?: () => void,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const send = url.protocol === "https:" ? httpsModule().request : http.request;
    const request = send(url, { method: "POST", headers, agent, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    request.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    if (onSent !== undefined) request.once("finish", onSent);
    request.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        const timeout = Object.assign(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`), {
          name: "TimeoutError",
          code: "ETIMEDOUT",
        });
        request.destroy(timeout);
      }, CONNECT_TIMEOUT_MS);
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });
    request.end(body);
  });
}
