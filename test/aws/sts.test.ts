import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsContext } from "../../src/aws/clients.ts";
import { classify } from "../../src/aws/errors.ts";
import { assumeWithWebIdentityInput, getCallerIdentity } from "../../src/aws/sts.ts";
import { MAX_ANSWER_BYTES } from "../../src/aws/transport.ts";
import { isPipeError, type PipeError } from "../../src/errors.ts";
import { awsContext } from "../support/awsContext.ts";

/**
 * The STS calls through @aws-sdk/client-sts and the pipe's transport, against answers scripted on
 * a local server: what AWS answers, and what something in between may answer instead.
 */
interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

let server: Server;
let endpoint: string;
const answers: Scripted[] = [];
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    const next = answers.shift() ?? { status: 500, body: "no answer scripted" };
    response.writeHead(next.status, { "content-type": "text/xml", ...next.headers }).end(next.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const KEYS = {
  accessKeyId: "ASIAEXAMPLEEXAMPLE01",
  secretAccessKey: "s".repeat(40),
  sessionToken: "t".repeat(300),
};
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

const assumeAnswer = (o: { arn?: string; expiration?: string; secret?: string } = {}) =>
  `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
  `<Credentials><AccessKeyId>${KEYS.accessKeyId}</AccessKeyId><SecretAccessKey>${o.secret ?? KEYS.secretAccessKey}</SecretAccessKey>` +
  `<SessionToken>${KEYS.sessionToken}</SessionToken><Expiration>${o.expiration ?? inAnHour()}</Expiration></Credentials>` +
  (o.arn === undefined
    ? ""
    : `<AssumedRoleUser><Arn>${o.arn}</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>`) +
  `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`;

async function withContext<T>(run: (ctx: AwsContext) => Promise<T>): Promise<T> {
  const ctx = await awsContext(endpoint);
  try {
    return await run(ctx);
  } finally {
    ctx.done();
  }
}

const assume = () =>
  withContext((ctx) =>
    assumeWithWebIdentityInput(ctx, {
      RoleArn: "arn:aws:iam::111111111111:role/deploy",
      RoleSessionName: "s",
      DurationSeconds: 900,
      WebIdentityToken: "header.payload.signature",
    }),
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("it succeeded"),
    (e: unknown) => e,
  );

describe("STS through the SDK", () => {
  it("assumes, sending the user agent, and reads the answer", async () => {
    answers.push({
      status: 200,
      body: assumeAnswer({ arn: "arn:aws:sts::111111111111:assumed-role/deploy/s" }),
    });
    const role = await assume();
    expect(role.assumedRoleArn).toBe("arn:aws:sts::111111111111:assumed-role/deploy/s");
    expect(role.credentials.secretAccessKey).toBe(KEYS.secretAccessKey);
    expect(`${seen.at(-1)?.["user-agent"]} ${seen.at(-1)?.["x-amz-user-agent"]}`).toContain(
      "bitbucket-aws-oidc/test",
    );
  });

  it("reads STS's error document as a refusal with its code", async () => {
    answers.push({
      status: 403,
      body: '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not &quot;allowed&quot;</Message></Error><RequestId>r-1</RequestId></ErrorResponse>',
    });
    const error = (await failure(assume())) as Error & { Code?: string };
    expect(error.name).toBe("AccessDenied");
    expect(error.message).toBe('Not "allowed"');
    expect(classify(error)).toBe("refused");
  });

  it("treats a proxy's HTML error page as a transient fault", async () => {
    answers.push({
      status: 502,
      headers: { "content-type": "text/html" },
      body: "<html><body>Bad gateway</body></html>",
    });
    const error = (await failure(assume())) as PipeError;
    expect(error.kind).toBe("transient");
  });

  it("treats a 200 cut short as a transient fault", async () => {
    answers.push({ status: 200, body: "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWeb" });
    expect(((await failure(assume())) as PipeError).kind).toBe("transient");
  });

  const unexpected = async (answer: Scripted, field: string) => {
    answers.push(answer);
    const error = await failure(assume());
    expect(isPipeError(error)).toBe(true);
    expect((error as PipeError).kind).toBe("internal");
    expect((error as PipeError).message).toBe(`unexpected answer from STS: ${field}`);
  };

  it("refuses an answer without the assumed role's ARN", () =>
    unexpected({ status: 200, body: assumeAnswer() }, "AssumedRoleUser.Arn"));
  it("refuses an ARN with a line break", () =>
    unexpected(
      { status: 200, body: assumeAnswer({ arn: "arn:aws:sts::111111111111:assumed-role/x&#10;✔ forged" }) },
      "AssumedRoleUser.Arn",
    ));
  it("refuses credentials that expired years ago", () =>
    unexpected(
      {
        status: 200,
        body: assumeAnswer({
          arn: "arn:aws:sts::111111111111:assumed-role/d/s",
          expiration: "2001-01-01T00:00:00Z",
        }),
      },
      "Credentials.Expiration",
    ));
  it("refuses a secret key with a quote in it", () =>
    unexpected(
      {
        status: 200,
        body: assumeAnswer({
          arn: "arn:aws:sts::111111111111:assumed-role/d/s",
          secret: `${"s".repeat(30)}'x`,
        }),
      },
      "Credentials.SecretAccessKey",
    ));
  it("refuses an answer over 1 MiB without parsing it", () =>
    unexpected({ status: 200, body: Buffer.alloc(MAX_ANSWER_BYTES + 10, "<a>") }, "an answer over 1 MiB"));
  it("refuses a redirect and names where it pointed", () =>
    unexpected(
      { status: 302, headers: { location: "https://elsewhere.example/login" }, body: "" },
      "a redirect to elsewhere.example",
    ));

  it("sees the runner's clock 20 minutes ahead in the assume's answer", async () => {
    const awsTime = new Date(Date.now() - 20 * 60_000).toUTCString();
    answers.push({
      status: 200,
      headers: { date: awsTime },
      body: assumeAnswer({
        arn: "arn:aws:sts::111111111111:assumed-role/d/s",
        // 15 minutes of AWS's time: already past by the runner's clock.
        expiration: new Date(Date.now() - 5 * 60_000).toISOString(),
      }),
    });
    answers.push({
      status: 200,
      headers: { date: awsTime },
      body: "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111111111111</Account><Arn>arn:aws:sts::111111111111:assumed-role/d/s</Arn><UserId>AROA:s</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>",
    });
    await withContext(async (ctx) => {
      const role = await assumeWithWebIdentityInput(ctx, {
        RoleArn: "arn:aws:iam::111111111111:role/d",
        RoleSessionName: "s",
        DurationSeconds: 900,
        WebIdentityToken: "h.p.s",
      });
      expect(ctx.clock.offsetMs()).toBeLessThan(-19 * 60_000);
      await getCallerIdentity(ctx, role.credentials);
    });
    // Signed with AWS's time, not the runner's.
    const signedAt = String(seen.at(-1)?.["x-amz-date"] ?? "");
    const parsed = Date.parse(
      signedAt.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
    );
    expect(Math.abs(parsed - (Date.now() - 20 * 60_000))).toBeLessThan(60_000);
  });
});
