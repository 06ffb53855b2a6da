/**
 * IAM trust-policy evaluation: the subset a role trust policy uses (Effect, Principal/NotPrincipal,
 * Action/NotAction, Condition). Policies are parsed once, when a role is added, and anything IAM
 * itself would refuse to store throws then, so a typo in a test fails loudly instead of denying.
 */
import { BlockList, isIP } from "node:net";

export interface Statement {
  sid?: string;
  effect: "Allow" | "Deny";
  /** Principal type (`AWS`, `Federated`, `Service`…) -> ids; `"*"` for everyone. */
  principal?: Map<string, string[]> | "*";
  notPrincipal?: Map<string, string[]> | "*";
  action?: string[];
  notAction?: string[];
  conditions: Condition[];
}

interface Condition {
  operator: string;
  base: BaseOperator;
  quantifier: "ForAnyValue" | "ForAllValues" | undefined;
  ifExists: boolean;
  key: string;
  values: string[];
}

/** What the caller is: the principal IAM identified and the context keys of the request. */
export interface PolicyRequest {
  action: string;
  principal: { type: string; ids: string[] };
  /** Condition keys (any case) -> values; a key with several values is multi-valued. */
  context: Record<string, string | string[] | undefined>;
}

export interface Decision {
  allowed: boolean;
  /** Why, for test failure messages (AWS itself never says). */
  reason: string;
}

type BaseOperator =
  | "StringEquals"
  | "StringNotEquals"
  | "StringEqualsIgnoreCase"
  | "StringNotEqualsIgnoreCase"
  | "StringLike"
  | "StringNotLike"
  | "ArnEquals"
  | "ArnLike"
  | "ArnNotEquals"
  | "ArnNotLike"
  | "IpAddress"
  | "NotIpAddress"
  | "Bool"
  | "Null";

const NEGATED = new Set<BaseOperator>([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "ArnNotEquals",
  "ArnNotLike",
  "NotIpAddress",
]);

const BASE_OPERATORS = new Set<string>([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "IpAddress",
  "NotIpAddress",
  "Bool",
  "Null",
]);

class PolicyError extends Error {
  constructor(message: string) {
    super(`invalid policy: ${message}`);
  }
}

const asList = (value: unknown, what: string): string[] => {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item === "string") return item;
    if (typeof item === "boolean" || typeof item === "number") return String(item);
    throw new PolicyError(`${what} must be a string or a list of strings, got ${JSON.stringify(value)}`);
  });
};

function parsePrincipal(value: unknown, what: string): Map<string, string[]> | "*" {
  if (value === "*") return "*";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PolicyError(`${what} must be "*" or an object such as {"Federated": "<provider arn>"}`);
  }
  const principals = new Map<string, string[]>();
  for (const [type, ids] of Object.entries(value)) {
    principals.set(
      type,
      // IAM stores a bare account id as that account's root.
      asList(ids, `${what}.${type}`).map((id) =>
        type === "AWS" && /^\d{12}$/.test(id) ? `arn:aws:iam::${id}:root` : id,
      ),
    );
  }
  return principals;
}

function validateCidr(value: string): void {
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address ?? "");
  const max = family === 4 ? 32 : 128;
  const bits = prefix === undefined ? max : Number(prefix);
  if (family === 0 || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new PolicyError(`"${value}" is not an IP address or CIDR block`);
  }
}

function parseConditions(value: unknown): Condition[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PolicyError("Condition must be an object of operators");
  }
  const conditions: Condition[] = [];
  for (const [operator, keys] of Object.entries(value)) {
    const match = /^(?:(ForAnyValue|ForAllValues):)?(\w+?)(IfExists)?$/.exec(operator);
    const base = match?.[2];
    if (!match || !base || !BASE_OPERATORS.has(base) || (base === "Null" && match[3])) {
      throw new PolicyError(`unsupported condition operator "${operator}"`);
    }
    if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
      throw new PolicyError(`${operator} must map condition keys to values`);
    }
    for (const [key, raw] of Object.entries(keys)) {
      const values = asList(raw, `${operator}.${key}`);
      if (base === "IpAddress" || base === "NotIpAddress") values.forEach(validateCidr);
      conditions.push({
        operator,
        base: base as BaseOperator,
        quantifier: match[1] as Condition["quantifier"],
        ifExists: match[3] !== undefined,
        key: key.toLowerCase(),
        values,
      });
    }
  }
  return conditions;
}

/** Parses an IAM policy document; throws on anything IAM would reject or this emulator does not model. */
export function parsePolicy(document: unknown): Statement[] {
  if (typeof document !== "object" || document === null)
    throw new PolicyError("the document must be an object");
  const { Statement: raw } = document as { Statement?: unknown };
  if (raw === undefined) throw new PolicyError("Statement is missing");
  const statements = Array.isArray(raw) ? raw : [raw];
  return statements.map((item: unknown, index): Statement => {
    if (typeof item !== "object" || item === null)
      throw new PolicyError(`Statement[${index}] must be an object`);
    const s = item as Record<string, unknown>;
    if (s.Effect !== "Allow" && s.Effect !== "Deny") {
      throw new PolicyError(`Statement[${index}].Effect must be "Allow" or "Deny"`);
    }
    if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) {
      throw new PolicyError(
        `Statement[${index}] of a trust policy needs exactly one of Principal, NotPrincipal`,
      );
    }
    if ((s.Action === undefined) === (s.NotAction === undefined)) {
      throw new PolicyError(`Statement[${index}] needs exactly one of Action, NotAction`);
    }
    const statement: Statement = { effect: s.Effect, conditions: parseConditions(s.Condition) };
    if (typeof s.Sid === "string") statement.sid = s.Sid;
    if (s.Principal !== undefined) statement.principal = parsePrincipal(s.Principal, "Principal");
    if (s.NotPrincipal !== undefined) statement.notPrincipal = parsePrincipal(s.NotPrincipal, "NotPrincipal");
    if (s.Action !== undefined) statement.action = asList(s.Action, "Action");
    if (s.NotAction !== undefined) statement.notAction = asList(s.NotAction, "NotAction");
    return statement;
  });
}

/** IAM wildcards: `*` any run of characters (also none), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

/** `::ffff:10.0.0.1` (how Node reports IPv4 peers on a dual-stack socket) is the IPv4 address. */
export const normalizeIp = (ip: string): string => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");

function inCidrs(ip: string, cidrs: string[]): boolean {
  const address = normalizeIp(ip);
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net = "", prefix] = cidr.split("/");
    const type = isIP(net) === 4 ? "ipv4" : "ipv6";
    list.addSubnet(net, prefix === undefined ? (type === "ipv4" ? 32 : 128) : Number(prefix), type);
  }
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Does one request value match one policy value, before negation? */
function matchesOne(base: BaseOperator, value: string, pattern: string): boolean {
  switch (base) {
    case "StringEquals":
    case "StringNotEquals":
    case "ArnEquals":
    case "ArnNotEquals":
      return value === pattern;
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return value.toLowerCase() === pattern.toLowerCase();
    case "StringLike":
    case "StringNotLike":
    case "ArnLike":
    case "ArnNotLike":
      return wildcardMatch(pattern, value);
    case "IpAddress":
    case "NotIpAddress":
      return inCidrs(value, [pattern]);
    case "Bool":
      return value.toLowerCase() === pattern.toLowerCase();
    case "Null":
      return false; // handled by the caller: it tests presence, not values
  }
}

function conditionHolds(condition: Condition, context: Map<string, string[]>): boolean {
  const values = context.get(condition.key);
  if (condition.base === "Null") {
    const wantsAbsent = condition.values.some((v) => v.toLowerCase() === "true");
    return wantsAbsent === (values === undefined || values.length === 0);
  }
  const negated = NEGATED.has(condition.base);
  if (values === undefined || values.length === 0) {
    // IAM: a missing key fails a positive operator and satisfies a negated one; IfExists and an
    // empty ForAllValues set are satisfied too.
    if (condition.ifExists || condition.quantifier === "ForAllValues") return true;
    if (condition.quantifier === "ForAnyValue") return false;
    return negated;
  }
  const valueOk = (value: string) => {
    const matched = condition.values.some((pattern) => matchesOne(condition.base, value, pattern));
    return negated ? !matched : matched;
  };
  if (condition.quantifier === "ForAllValues") return values.every(valueOk);
  if (condition.quantifier === "ForAnyValue") return values.some(valueOk);
  // Plain operator on a multi-valued key: any value may satisfy a positive operator, a negated one must hold for all.
  return negated ? values.every(valueOk) : values.some(valueOk);
}

function principalMatches(policy: Map<string, string[]> | "*", caller: PolicyRequest["principal"]): boolean {
  if (policy === "*") return true;
  const ids = policy.get(caller.type) ?? [];
  return ids.some((id) => id === "*" || caller.ids.includes(id));
}

function statementApplies(
  statement: Statement,
  request: PolicyRequest,
  context: Map<string, string[]>,
): string {
  if (statement.principal && !principalMatches(statement.principal, request.principal)) return "principal";
  if (statement.notPrincipal && principalMatches(statement.notPrincipal, request.principal))
    return "principal";
  const actionIn = (list: string[]) => list.some((pattern) => wildcardMatch(pattern, request.action, true));
  if (statement.action && !actionIn(statement.action)) return "action";
  if (statement.notAction && actionIn(statement.notAction)) return "action";
  const failed = statement.conditions.find((c) => !conditionHolds(c, context));
  return failed ? `condition ${failed.operator} ${failed.key} ${JSON.stringify(failed.values)}` : "";
}

/** Explicit Deny wins, then any Allow; otherwise the implicit deny. */
export function evaluate(statements: Statement[], request: PolicyRequest): Decision {
  const context = new Map<string, string[]>();
  for (const [key, value] of Object.entries(request.context)) {
    if (value !== undefined) context.set(key.toLowerCase(), Array.isArray(value) ? value : [value]);
  }
  const misses: string[] = [];
  let allowedBy: string | undefined;
  for (const [index, statement] of statements.entries()) {
    const name = statement.sid ?? `Statement[${index}]`;
    const miss = statementApplies(statement, request, context);
    if (miss !== "") {
      misses.push(`${name}: ${miss} does not match`);
    } else if (statement.effect === "Deny") {
      return { allowed: false, reason: `explicitly denied by ${name}` };
    } else {
      allowedBy ??= name;
    }
  }
  if (allowedBy !== undefined) return { allowed: true, reason: `allowed by ${allowedBy}` };
  return { allowed: false, reason: misses.length ? misses.join("; ") : "the policy has no statement" };
}
