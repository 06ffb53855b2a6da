/**
 * The one HTTP endpoint the code under test knows as AWS_ENDPOINT_URL: recognises which service a
 * request is for, records it, applies latency, scripted faults and throttling, then lets the
 * service answer. Requests under REGISTRY_PREFIX go to the package registries, when mounted.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { signingKeyId } from "./auth.ts";
import type { WorldClock } from "./clock.ts";
import type { Faults, Throttle } from "./faults.ts";
import * as ids from "./ids.ts";
import { type Listening, listen, readBody } from "./listen.ts";
import { normalizeIp } from "./policy.ts";
import { headerMap } from "./sigv4.ts";
import {
  type ApiCall,
  ApiError,
  errorReply,
  malformedReply,
  type Reply,
  type Service,
  type ServiceName,
} from "./wire.ts";

/** Where CodeArtifact's repository endpoints point: `<endpoint>/ca/<domain>-<owner>/<format>/<repo>/`. */
export const REGISTRY_PREFIX = "/ca/";

export interface RecordedRequest {
  service: ServiceName;
  action: string;
  /** Query/form/JSON parameters as sent, flattened (JSON arrays as `name.0`, `name.1`…). Nothing stripped. */
  params: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The answer's HTTP status; 0 while pending, and for a dropped connection. */
  status: number;
  errorCode?: string;
  /** Why the world refused, when it did (AWS never says; a failing test should). */
  detail?: string;
  /** Arrival, ms epoch. */
  at: number;
  /** The key the request was signed with, if signed. */
  accessKeyId?: string;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The knobs tests turn while the server runs. */
export interface Controls {
  latencyMs: number;
  /** `aws:SourceIp` to use instead of the socket's remote address. */
  sourceIp: string | undefined;
  /** Serves everything under REGISTRY_PREFIX. */
  registry: RawHandler | undefined;
}

const sleep = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

export function startAwsServer(o: {
  services: Service[];
  faults: Faults;
  throttle: Throttle;
  requests: RecordedRequest[];
  controls: Controls;
  clock: WorldClock;
}): Promise<Listening> {
  async function answer(service: Service, call: ApiCall, record: RecordedRequest): Promise<Reply | "drop"> {
    const fault = o.faults.take(service.name, call.action, call.params);
    if (fault) await sleep(fault.delayMs);
    if (fault?.kind === "drop") return "drop";
    if (fault?.kind === "malformed") return malformedReply(service.protocol, call.action, call.requestId);
    if (fault?.kind === "answer") {
      const body = fault.answer.body;
      return {
        status: fault.answer.status,
        headers: fault.answer.headers ?? {},
        body: typeof body === "function" ? body() : body,
      };
    }
    try {
      if (fault?.kind === "error") throw fault.error;
      const throttled = o.throttle.check(service.name);
      if (throttled) throw throttled;
      const reply = await service.handle(call);
      return fault?.kind === "rewrite" ? { ...reply, body: fault.rewrite(reply.body.toString()) } : reply;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      record.errorCode = error.code;
      if (error.detail !== undefined) record.detail = error.detail;
      return errorReply(service.protocol, error, call.requestId);
    }
  }

  return listen(async (req, res) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? "" : rawUrl.slice(q + 1);

    if (path.startsWith(REGISTRY_PREFIX)) {
      const registry = o.controls.registry;
      if (registry) return registry(req, res);
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("no package registry is mounted in this world\n");
      return;
    }

    const body = await readBody(req);
    const method = req.method ?? "GET";
    const headers = Object.fromEntries(headerMap(req.rawHeaders));
    let service: Service | undefined;
    let routed: { action: string; params: Record<string, string> } | undefined;
    for (const candidate of o.services) {
      routed = candidate.route({ method, path, headers, body, query });
      if (routed) {
        service = candidate;
        break;
      }
    }
    if (!service || !routed) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `the AWS world has no API at ${method} ${path}` }));
      return;
    }

    const call: ApiCall = {
      service: service.name,
      action: routed.action,
      params: routed.params,
      signed: { method, path, query, rawHeaders: req.rawHeaders, body },
      headers,
      sourceIp: o.controls.sourceIp ?? normalizeIp(req.socket.remoteAddress ?? ""),
      requestId: ids.requestId(),
    };
    const keyId = signingKeyId(call);
    const record: RecordedRequest = {
      service: service.name,
      action: call.action,
      params: call.params,
      headers,
      status: 0,
      at: Date.now(),
      ...(keyId === undefined ? {} : { accessKeyId: keyId }),
    };
    o.requests.push(record);

    await sleep(o.controls.latencyMs);
    const reply = await answer(service, call, record);
    if (reply === "drop") {
      req.socket.destroy();
      return;
    }
    record.status = reply.status;
    // AWS dates every answer: the pipe reads its clock offset from it.
    res
      .writeHead(reply.status, { date: new Date(o.clock.now()).toUTCString(), ...reply.headers })
      .end(reply.body);
  });
}
