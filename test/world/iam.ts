/** The IAM side of the world: OIDC providers, roles with their trust policies, and live sessions. */
import { WorldClock } from "./clock.ts";
import * as ids from "./ids.ts";
import { recordIssued } from "./issued.ts";
import type { Issuer } from "./issuer.ts";
import { parsePolicy, type Statement } from "./policy.ts";

export const DEFAULT_ACCOUNT = "111111111111";

export interface RoleDefinition {
  /** `arn:aws:iam::<account>:role/<path/><name>` */
  arn: string;
  /** An IAM JSON policy document. */
  trustPolicy: object;
  /** Seconds; IAM's default is 3600. */
  maxSessionDuration?: number;
}

export interface Role {
  arn: string;
  partition: string;
  account: string;
  /** The last path segment: what assumed-role ARNs carry. */
  name: string;
  /** `AROA…`: stable per role, the first half of its sessions' `UserId`. */
  uniqueId: string;
  trustPolicy: object;
  statements: Statement[];
  maxSessionDuration: number;
}

export interface Provider {
  arn: string;
  account: string;
  /** The issuer URL without `https://`. */
  hostPath: string;
  clientIds: string[];
  /** Where STS fetches the discovery document (the local twin of `<iss>/.well-known/openid-configuration`). */
  discoveryUrl: string;
}

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` */
  assumedRoleArn: string;
  account: string;
  expiration: Date;
  sessionName: string;
  /** `AROA…:<session name>`, the `UserId` GetCallerIdentity answers. */
  userId: string;
  /** The inline session policy sent with the assume call, if any. */
  policy?: string;
  /** Managed session policy ARNs sent with the assume call. */
  policyArns: string[];
  /** The access key of the session that assumed this one (role chaining). */
  chainedFrom?: string;
}

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

export function parseRoleArn(arn: string): { partition: string; account: string; name: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { partition: match[1], account: match[2], name: match[3] };
}

export const providerArn = (hostPath: string, account: string, partition = "aws"): string =>
  `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`;

export class Iam {
  /** AWS's time: sessions start and end by it, signatures are checked against it. */
  readonly clock: WorldClock;
  constructor(clock: WorldClock = new WorldClock()) {
    this.clock = clock;
  }
  readonly providers = new Map<string, Provider>();
  readonly roles = new Map<string, Role>();
  /** Access key id -> session. */
  readonly sessions = new Map<string, Session>();

  addProvider(issuer: Issuer, account = DEFAULT_ACCOUNT, clientIds: string[] = [issuer.audience]): Provider {
    const provider: Provider = {
      arn: providerArn(issuer.hostPath, account),
      account,
      hostPath: issuer.hostPath,
      clientIds: [...clientIds],
      discoveryUrl: issuer.discoveryUrl,
    };
    this.providers.set(provider.arn, provider);
    return provider;
  }

  /** The provider an account has for a token's `iss`, as STS looks it up. */
  findProvider(account: string, iss: string): Provider | undefined {
    const hostPath = iss.replace(/^https:\/\//, "").replace(/\/+$/, "");
    return [...this.providers.values()].find((p) => p.account === account && p.hostPath === hostPath);
  }

  /** Adds or replaces a role. Throws on an ARN or trust policy IAM would refuse. */
  addRole(definition: RoleDefinition): Role {
    const parsed = parseRoleArn(definition.arn);
    if (!parsed) throw new Error(`not an IAM role ARN: ${definition.arn}`);
    const maxSessionDuration = definition.maxSessionDuration ?? 3600;
    if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
      throw new Error(`maxSessionDuration must be 3600..43200 seconds, got ${maxSessionDuration}`);
    }
    const role: Role = {
      arn: definition.arn,
      ...parsed,
      // Replacing a role (e.g. to change its trust) keeps its id, so sessions' UserIds stay predictable.
      uniqueId: this.roles.get(definition.arn)?.uniqueId ?? ids.roleUniqueId(),
      trustPolicy: definition.trustPolicy,
      statements: parsePolicy(definition.trustPolicy),
      maxSessionDuration,
    };
    this.roles.set(role.arn, role);
    return role;
  }

  startSession(
    role: Role,
    o: {
      sessionName: string;
      durationSeconds: number;
      policy?: string;
      policyArns: string[];
      chainedFrom?: string;
    },
  ): Session {
    const session: Session = {
      accessKeyId: ids.temporaryAccessKeyId(),
      secretAccessKey: ids.secretAccessKey(),
      sessionToken: ids.sessionToken(),
      roleArn: role.arn,
      assumedRoleArn: `arn:${role.partition}:sts::${role.account}:assumed-role/${role.name}/${o.sessionName}`,
      account: role.account,
      // AWS hands out whole seconds.
      expiration: new Date(Math.floor(this.clock.now() / 1000) * 1000 + o.durationSeconds * 1000),
      sessionName: o.sessionName,
      userId: `${role.uniqueId}:${o.sessionName}`,
      policyArns: o.policyArns,
      ...(o.policy === undefined ? {} : { policy: o.policy }),
      ...(o.chainedFrom === undefined ? {} : { chainedFrom: o.chainedFrom }),
    };
    this.sessions.set(session.accessKeyId, session);
    recordIssued("STS secret access key", session.secretAccessKey);
    recordIssued("STS session token", session.sessionToken);
    return session;
  }
}
