import http from "node:http";
import https from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { getProxyForUrl } from "proxy-from-env";

/**
 * The AWS SDK for JavaScript ignores HTTPS_PROXY/HTTP_PROXY/NO_PROXY; self-hosted runners behind
 * a corporate proxy need them. One keep-alive agent per (scheme, proxy) is shared by every client,
 * so the calls after the assume reuse its connection instead of paying another TLS handshake.
 */
export interface HttpHandlers {
  /** The SDK request handler for a client whose endpoint is `url`. */
  forUrl(url: string): NodeHttpHandler;
  /** The proxy the handler for `url` goes through, for the debug log. */
  proxyFor(url: string): string | undefined;
  destroy(): void;
}

const CONNECT_TIMEOUT_MS = 5_000;
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

export async function createHttpHandlers(env: NodeJS.ProcessEnv = process.env): Promise<HttpHandlers> {
  const proxyAgents = await loadProxyAgents(env);
  const handlers = new Map<string, { handler: NodeHttpHandler; agent: http.Agent }>();

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
    return secure ? new https.Agent(options) : new http.Agent(options);
  };

  return {
    proxyFor,
    forUrl(url) {
      const secure = new URL(url).protocol === "https:";
      const proxy = proxyFor(url);
      const key = `${secure}|${proxy ?? ""}`;
      let entry = handlers.get(key);
      if (entry === undefined) {
        const agent = makeAgent(secure, proxy);
        const handler = new NodeHttpHandler({
          connectionTimeout: CONNECT_TIMEOUT_MS,
          ...(secure ? { httpsAgent: agent as https.Agent } : { httpAgent: agent }),
        });
        entry = { handler, agent };
        handlers.set(key, entry);
      }
      return entry.handler;
    },
    destroy() {
      for (const { agent } of handlers.values()) agent.destroy();
    },
  };
}
