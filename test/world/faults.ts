/** The world's bad days: scripted faults and a rate limit, both decided before a call is handled. */
import { ApiError, type ServiceName } from "./wire.ts";

export interface Fault {
  /**
   * Which calls: an STS action (`AssumeRoleWithWebIdentity`, `GetCallerIdentity`, `AssumeRole`,
   * also as `sts:AssumeRole`), `codeartifact:GetAuthorizationToken`,
   * `codeartifact:GetRepositoryEndpoint`, `ecr:GetAuthorizationToken`, `<service>:*` for all of a
   * service's calls, or `*` for any.
   */
  action: string;
  /** How many calls it hits. Default 1; `Infinity` for all. */
  times?: number;
  /** HTTP status; with only `code`, the status AWS uses for that code (else 400). */
  status?: number;
  code?: string;
  /** A function is called when the call arrives: a message may quote what the world issued since. */
  message?: string | (() => string);
  /** Wait this long first. A fault with nothing but a delay then answers normally: a slow AWS. */
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Answer 200 with a body that breaks off. */
  malformed?: boolean;
  /**
   * Hostile mode: answer this instead of AWS (a proxy's page, a redirect, an oversized body): what
   * something between the runner and AWS, or a changed AWS, may send.
   */
  answer?: {
    status: number;
    headers?: Record<string, string>;
    /** A function is called when the call arrives: the body may quote what the world issued since. */
    body: string | Buffer | (() => string | Buffer);
  };
  /** Hostile mode: let the service answer, then change its body (e.g. put a line break in an ARN). */
  rewrite?: (body: string) => string;
  /** Only calls whose parameters pass (e.g. `(p) => p.RoleArn === arn`: one role of several). */
  when?: (params: Record<string, string>) => boolean;
}

/** The outcome a fault decides; `proceed` means "answer the call normally" (after the delay). */
export type FaultOutcome =
  | { kind: "drop"; delayMs: number }
  | { kind: "malformed"; delayMs: number }
  | { kind: "error"; delayMs: number; error: ApiError }
  | { kind: "answer"; delayMs: number; answer: NonNullable<Fault["answer"]> }
  | { kind: "rewrite"; delayMs: number; rewrite: NonNullable<Fault["rewrite"]> }
  | { kind: "proceed"; delayMs: number };

const STATUS_OF_CODE: Record<string, number> = {
  AccessDenied: 403,
  AccessDeniedException: 403,
  ExpiredTokenException: 400,
  IDPCommunicationError: 400,
  IDPRejectedClaim: 403,
  InternalFailure: 500,
  InternalServerException: 500,
  InvalidClientTokenId: 403,
  InvalidIdentityToken: 400,
  MalformedPolicyDocument: 400,
  PackedPolicyTooLarge: 400,
  RegionDisabledException: 403,
  ResourceNotFoundException: 404,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  SignatureDoesNotMatch: 403,
  Throttling: 400,
  ThrottlingException: 400,
  ValidationError: 400,
};

const CODE_OF_STATUS: Record<number, string> = {
  403: "AccessDenied",
  429: "ThrottlingException",
  500: "InternalFailure",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

const MESSAGE_OF_CODE: Record<string, string> = {
  Throttling: "Rate exceeded",
  ThrottlingException: "Rate exceeded",
  ServiceUnavailable: "Service Unavailable",
  InternalFailure: "An internal error occurred.",
  IDPCommunicationError:
    "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. Try again later.",
  RegionDisabledException:
    "STS is not activated in this region for this account. Your account administrator can activate STS in this region using the IAM Console.",
};

function outcomeOf(f: Fault): FaultOutcome {
  const delayMs = f.delayMs ?? 0;
  if (f.drop) return { kind: "drop", delayMs };
  if (f.malformed) return { kind: "malformed", delayMs };
  if (f.answer) return { kind: "answer", delayMs, answer: f.answer };
  if (f.rewrite) return { kind: "rewrite", delayMs, rewrite: f.rewrite };
  if (f.status === undefined && f.code === undefined && f.delayMs !== undefined)
    return { kind: "proceed", delayMs };
  const code =
    f.code ??
    CODE_OF_STATUS[f.status ?? 500] ??
    (f.status !== undefined && f.status >= 500 ? "InternalFailure" : "BadRequest");
  const status = f.status ?? STATUS_OF_CODE[code] ?? 400;
  const message =
    (typeof f.message === "function" ? f.message() : f.message) ??
    MESSAGE_OF_CODE[code] ??
    `Injected fault: ${code}`;
  return { kind: "error", delayMs, error: new ApiError(status, code, message, {}, "injected fault") };
}

export class Faults {
  private readonly queue: { fault: Fault; left: number }[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error(`fault.times must be positive, got ${times}`);
    this.queue.push({ fault, left: times });
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** The first scripted fault for this call, consumed; undefined when the call goes through. */
  take(service: ServiceName, action: string, params: Record<string, string> = {}): FaultOutcome | undefined {
    const qualified = `${service}:${action}`;
    const index = this.queue.findIndex(
      ({ fault }) =>
        (fault.action === "*" ||
          fault.action === `${service}:*` ||
          fault.action === qualified ||
          (service === "sts" && fault.action === action)) &&
        (fault.when?.(params) ?? true),
    );
    const entry = this.queue[index];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.queue.splice(index, 1);
    return outcomeOf(entry.fault);
  }
}

/** What each service answers when it throttles. */
const THROTTLED: Record<ServiceName, () => ApiError> = {
  sts: () => new ApiError(400, "Throttling", "Rate exceeded"),
  codeartifact: () => new ApiError(429, "ThrottlingException", "Rate exceeded"),
  ecr: () => new ApiError(400, "ThrottlingException", "Rate exceeded"),
};

/** A limit of N calls per rolling second, counted per service (each AWS service has its own). */
export class Throttle {
  private perSecond: number | undefined;
  private readonly admitted = new Map<ServiceName, number[]>();

  set(perSecond: number | undefined): void {
    if (perSecond !== undefined && !(perSecond >= 0))
      throw new Error(`throttle must be >= 0, got ${perSecond}`);
    this.perSecond = perSecond;
    this.admitted.clear();
  }

  /** Counts the call, or returns the error to answer when it is over the limit (refused calls don't count). */
  check(service: ServiceName, now = Date.now()): ApiError | undefined {
    if (this.perSecond === undefined) return undefined;
    const recent = (this.admitted.get(service) ?? []).filter((at) => at > now - 1000);
    this.admitted.set(service, recent);
    if (recent.length >= this.perSecond) return THROTTLED[service]();
    recent.push(now);
    return undefined;
  }
}
