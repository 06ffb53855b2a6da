import http from "node:http";
import https from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpProxyAgent } from "http-proxy-agent";
import { HttpsProxyAgent } from "https-proxy-agent";
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

export function createHttpHandlers(): HttpHandlers {
  const agents = new Map<string, http.Agent>();
  const handlers = new Map<string, NodeHttpHandler>();

  // proxy-from-env reads HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) from process.env itself.
  const proxyFor = (url: string): string | undefined => getProxyForUrl(url) || undefined;

  const agentFor = (secure: boolean, proxy: string | undefined): http.Agent => {
    const key = `${secure}|${proxy ?? ""}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      const options = { keepAlive: true, maxSockets: 16 };
      if (proxy === undefined) agent = secure ? new https.Agent(options) : new http.Agent(options);
      else agent = secure ? new HttpsProxyAgent(proxy, options) : new HttpProxyAgent(proxy, options);
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    proxyFor,
    forUrl(url) {
      const secure = new URL(url).protocol === "https:";
      const proxy = proxyFor(url);
      const key = `${secure}|${proxy ?? ""}`;
      let handler = handlers.get(key);
      if (handler === undefined) {
        const agent = agentFor(secure, proxy);
        handler = new NodeHttpHandler({
          connectionTimeout: CONNECT_TIMEOUT_MS,
          ...(secure ? { httpsAgent: agent as https.Agent } : { httpAgent: agent }),
        });
        handlers.set(key, handler);
      }
      return handler;
    },
    destroy() {
      for (const agent of agents.values()) agent.destroy();
    },
  };
}
