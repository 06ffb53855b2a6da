// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${AWS::...} placeholders are what these helpers look for.
/** For the template's tests (test/template/): its inputs, a run that parses the output, and IAM's grammar. */
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { PipeError } from "../../src/errors.ts";
import { runTemplate } from "../../src/template/index.ts";

export const FIXTURE = fileURLToPath(new URL("../fixtures/ip-ranges.sample.json", import.meta.url));
export const WS_UUID = "12345678-90ab-4cde-8f01-234567890abc";
export const REPO = "{7d3b1e2a-4c5f-4a6b-8c7d-9e0f1a2b3c4d}";
export const REPO2 = "{0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d}";
export const ENV = "{e1e2e3e4-f5f6-4a7b-8c9d-aaaabbbbcccc}";
export const HOST_PATH = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
export const AUDIENCE = `ari:cloud:bitbucket::workspace/${WS_UUID}`;
export const BASE = ["--workspace", "acme", "--workspace-uuid", WS_UUID, "--repository-uuid", REPO];
export const PROVIDER_ARN = `arn:aws:iam::210987654321:oidc-provider/${HOST_PATH}`;

// biome-ignore lint/suspicious/noExplicitAny: templates are free-form JSON, read in tests by path.
export type Any = any;

export const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file, open '${path}'`);
};

/** Runs the command and parses its output (YAML or JSON, as asked). */
export function run(args: string[], env: NodeJS.ProcessEnv = {}, readFile: (p: string) => string = noFiles) {
  const result = runTemplate(args, env, readFile);
  const json = args.some((a) => a === "json" || a === "--format=json");
  return { ...result, template: (json ? JSON.parse(result.output) : parse(result.output)) as Any };
}

/** The whole text of an error, as the user sees it. */
export const told = (error: PipeError) => [error.message, ...error.details, error.fix ?? ""].join("\n");

/** IAM policy grammar, independent of the code under test. */
const OPERATORS = new Set(
  [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
  ].flatMap((op) => [op, `${op}IfExists`, `ForAnyValue:${op}`, `ForAllValues:${op}`]),
);
const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "Action",
  "NotAction",
  "Resource",
  "Condition",
]);
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*]+$/;

const resourceOk = (resource: unknown): boolean => {
  if (resource === "*") return true;
  if (typeof resource === "string") return /^arn:aws[a-z-]*:[a-z0-9-]+:/.test(resource);
  if (typeof resource === "object" && resource !== null && Object.keys(resource).length === 1) {
    const sub = (resource as Record<string, unknown>)["Fn::Sub"];
    return typeof sub === "string" && sub.startsWith("arn:${AWS::Partition}:");
  }
  return false;
};

/** Problems with a policy document against IAM's grammar; empty when it is well-formed. */
export function policyProblems(doc: Any, kind: "identity" | "trust"): string[] {
  const problems: string[] = [];
  if (doc?.Version !== "2012-10-17") problems.push(`Version is ${JSON.stringify(doc?.Version)}`);
  const statements: Any[] = Array.isArray(doc?.Statement) ? doc.Statement : [doc?.Statement];
  if (statements.length === 0 || statements[0] === undefined) problems.push("no Statement");
  const sids = new Set<string>();
  for (const [i, s] of statements.entries()) {
    const at = `Statement[${i}]`;
    if (typeof s !== "object" || s === null) {
      problems.push(`${at} is not an object`);
      continue;
    }
    for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) problems.push(`${at} has unknown ${key}`);
    if (s.Sid !== undefined) {
      if (typeof s.Sid !== "string" || !/^[A-Za-z0-9]+$/.test(s.Sid)) problems.push(`${at} Sid ${s.Sid}`);
      if (sids.has(s.Sid)) problems.push(`${at} repeats Sid ${s.Sid}`);
      sids.add(s.Sid);
    }
    if (s.Effect !== "Allow" && s.Effect !== "Deny") problems.push(`${at} Effect ${s.Effect}`);
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    if (actions.length === 0) problems.push(`${at} has no Action`);
    for (const a of actions) if (typeof a !== "string" || !ACTION.test(a)) problems.push(`${at} Action ${a}`);
    if (kind === "identity") {
      if (s.Principal !== undefined) problems.push(`${at} has a Principal in an identity policy`);
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      if (resources.length === 0) problems.push(`${at} has no Resource`);
      for (const r of resources) if (!resourceOk(r)) problems.push(`${at} Resource ${JSON.stringify(r)}`);
    } else {
      if (s.Resource !== undefined) problems.push(`${at} has a Resource in a trust policy`);
      if (s.Principal?.Federated === undefined) problems.push(`${at} has no Federated principal`);
    }
    if (s.Condition !== undefined) {
      for (const [op, block] of Object.entries(s.Condition as Record<string, unknown>)) {
        if (!OPERATORS.has(op)) problems.push(`${at} condition operator ${op}`);
        if (typeof block !== "object" || block === null || Object.keys(block).length === 0) {
          problems.push(`${at} ${op} is empty`);
          continue;
        }
        for (const [key, value] of Object.entries(block)) {
          const values = Array.isArray(value) ? value : [value];
          if (values.length === 0 || !values.every((v) => typeof v === "string")) {
            problems.push(`${at} ${op} ${key} values`);
          }
        }
      }
    }
  }
  return problems;
}

/** Every policy document in a template: the trust policy and each inline policy. */
export function policiesOf(template: Any): { name: string; doc: Any; kind: "identity" | "trust" }[] {
  const role = template.Resources.DeploymentRole.Properties;
  return [
    { name: "trust", doc: role.AssumeRolePolicyDocument, kind: "trust" as const },
    ...(role.Policies ?? []).map((p: Any) => ({
      name: p.PolicyName,
      doc: p.PolicyDocument,
      kind: "identity" as const,
    })),
  ];
}

export const statementsOf = (template: Any): Any[] =>
  (template.Resources.DeploymentRole.Properties.Policies ?? []).flatMap(
    (p: Any) => p.PolicyDocument.Statement,
  );

export const actionsOf = (template: Any): string[] =>
  statementsOf(template).flatMap((s: Any) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
