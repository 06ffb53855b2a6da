import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AssumeRoleWithWebIdentityCommandInput } from "@aws-sdk/client-sts";
import { afterAll, describe, expect, it } from "vitest";
import type { Credentials } from "../../src/aws/clients.ts";
import { assumeFromTokenFile, credentialsFromIni } from "../../src/aws/providers.ts";
import { isPipeError, type PipeError, refusedError } from "../../src/errors.ts";

/**
 * The AWS SDK's own credential providers on files (src/aws/providers.ts): what they read, what they
 * hand the pipe's own role assumer, and a file they cannot use told apart from a refusal.
 * The assumer stands in for the pipe's STS call: here it answers without the network.
 */

const dir = mkdtempSync(path.join(tmpdir(), "bb-providers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content, { mode: 0o600 });
  return target;
};

const ROLE = "arn:aws:iam::111111111111:role/deploy";
const issued: Credentials = {
  accessKeyId: "ASIAEXAMPLE000000001",
  secretAccessKey: "secret/key+0000000000000000000000000000",
  sessionToken: "session-token",
  expiration: new Date(Date.now() + 3600_000),
};

/** An assumer that records what it was asked, then answers (or fails) as told. */
function assumer(answer: () => Promise<Credentials> = async () => issued) {
  const asked: AssumeRoleWithWebIdentityCommandInput[] = [];
  return {
    asked,
    assume: async (input: AssumeRoleWithWebIdentityCommandInput) => {
      asked.push(input);
      return answer();
    },
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );

describe("assumeFromTokenFile", () => {
  it("hands the assumer the token from the file, the role, session name, duration and policies", async () => {
    const tokenFile = file("token", "header.payload.signature");
    const { asked, assume } = assumer();
    await assumeFromTokenFile(
      {
        tokenFile,
        roleArn: ROLE,
        sessionName: "bitbucket-web-1",
        durationSeconds: 900,
        policy: '{"Version":"2012-10-17","Statement":[]}',
        policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      },
      assume,
    );
    expect(asked).toEqual([
      expect.objectContaining({
        RoleArn: ROLE,
        RoleSessionName: "bitbucket-web-1",
        WebIdentityToken: "header.payload.signature",
        DurationSeconds: 900,
        Policy: '{"Version":"2012-10-17","Statement":[]}',
        PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
      }),
    ]);
  });

  it("sends no policy fields when there are none", async () => {
    const { asked, assume } = assumer();
    await assumeFromTokenFile(
      {
        tokenFile: file("token2", "t.o.k"),
        roleArn: ROLE,
        sessionName: "s1",
        durationSeconds: 3600,
        policyArns: [],
      },
      assume,
    );
    expect(asked[0]?.Policy).toBeUndefined();
    expect(asked[0]?.PolicyArns).toBeUndefined();
  });

  it("a token file the SDK cannot read is exit 1, never a trust refusal", async () => {
    const error = await failure(
      assumeFromTokenFile(
        {
          tokenFile: path.join(dir, "no-such-token"),
          roleArn: ROLE,
          sessionName: "s1",
          durationSeconds: 900,
        },
        () => Promise.reject(new Error("never called")),
      ),
    );
    expect(isPipeError(error)).toBe(true);
    expect((error as PipeError).kind).toBe("internal");
    expect((error as PipeError).message).toMatch(/could not use the staged token file .*no-such-token/);
  });

  it("the assumer's own failure passes through as it is", async () => {
    const refused = refusedError("AWS refused it");
    const { assume } = assumer(() => Promise.reject(refused));
    const error = await failure(
      assumeFromTokenFile(
        { tokenFile: file("token3", "t.o.k"), roleArn: ROLE, sessionName: "s1", durationSeconds: 900 },
        assume,
      ),
    );
    expect(error).toBe(refused);
  });
});

describe("credentialsFromIni", () => {
  const never = () => Promise.reject(new Error("never called"));

  it("static: a profile's keys from the credentials file, region from the config file", async () => {
    const configFile = file(
      "config-static",
      "[default]\nregion = ap-southeast-2\n\n[profile dev]\nregion = ap-southeast-2\n",
    );
    const credentialsFile = file(
      "credentials-static",
      "[dev]\naws_access_key_id = ASIADEV\naws_secret_access_key = devsecret\naws_session_token = devtoken\n",
    );
    expect(await credentialsFromIni({ profile: "dev", configFile, credentialsFile }, never)).toEqual({
      accessKeyId: "ASIADEV",
      secretAccessKey: "devsecret",
      sessionToken: "devtoken",
    });
  });

  it("web-identity: the profile's role, session name and token file go to the assumer", async () => {
    const tokenFile = file("token-ini", "ini.token.value");
    const configFile = file(
      "config-wi",
      `[profile dev]\nrole_arn = ${ROLE}\nweb_identity_token_file = ${tokenFile}\nrole_session_name = bitbucket-web-2\nregion = ap-southeast-2\n`,
    );
    const { asked, assume } = assumer();
    const credentials = await credentialsFromIni(
      { profile: "dev", configFile, credentialsFile: path.join(dir, "absent") },
      assume,
    );
    expect(credentials).toEqual({
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    });
    expect(asked).toEqual([
      expect.objectContaining({
        RoleArn: ROLE,
        RoleSessionName: "bitbucket-web-2",
        WebIdentityToken: "ini.token.value",
      }),
    ]);
  });

  it("never reads another profile or keys without a session token: the files are unusable", async () => {
    const configFile = file("config-none", "[profile other]\nregion = ap-southeast-2\n");
    const credentialsFile = file(
      "credentials-long-term",
      "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n",
    );
    const missing = await failure(
      credentialsFromIni({ profile: "prod", configFile, credentialsFile }, never),
    );
    expect((missing as PipeError).kind).toBe("internal");
    expect((missing as PipeError).message).toMatch(
      /could not use the staged aws-config\/aws-credentials for the profile prod/,
    );
    const longTerm = await failure(
      credentialsFromIni({ profile: "dev", configFile, credentialsFile }, never),
    );
    expect((longTerm as PipeError).message).toMatch(/for the profile dev: no session token/);
  });

  it("a profile that chains roles is refused: the pipe writes none", async () => {
    const configFile = file(
      "config-chain",
      `[profile base]\naws_access_key_id = ASIA1\naws_secret_access_key = s\naws_session_token = t\n\n[profile dev]\nrole_arn = ${ROLE}\nsource_profile = base\n`,
    );
    const error = await failure(
      credentialsFromIni({ profile: "dev", configFile, credentialsFile: path.join(dir, "absent") }, never),
    );
    expect(isPipeError(error)).toBe(true);
    expect((error as PipeError).message).toBe(
      "The AWS SDK could not use the staged aws-config/aws-credentials for the profile dev: it resolves to a chain of roles (role_arn with source_profile), which the pipe never writes.",
    );
  });
});
