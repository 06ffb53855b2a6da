/**
 * The world's SigV4 verifier (test/world/sigv4.ts) against what the SDK's own signer signs.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { REGION } from "../support/worldClients.ts";
import { parseAuthorization, type SignedRequest, verifySignature } from "./sigv4.ts";

describe("SigV4 verifier", () => {
  // A hash class over node:crypto in the shape @smithy/signature-v4 wants.
  type Data = string | ArrayBuffer | ArrayBufferView;
  const bytes = (d: Data) =>
    typeof d === "string"
      ? d
      : ArrayBuffer.isView(d)
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
        : new Uint8Array(d);
  class NodeSha256 {
    private readonly hash;
    constructor(secret?: Data) {
      this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
    }
    update(data: Data) {
      this.hash.update(bytes(data));
    }
    async digest() {
      return new Uint8Array(this.hash.digest());
    }
  }
  const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  /** Signs with the SDK's own signer, then hands our verifier what the wire would carry. */
  async function signedBySdk(body: string): Promise<SignedRequest> {
    const signer = new SignatureV4({
      service: "codeartifact",
      region: REGION,
      credentials: { accessKeyId: "ASIAEXAMPLEEXAMPLE00", secretAccessKey: secret, sessionToken: "tok/en+=" },
      sha256: NodeSha256,
    });
    const query = { domain: "acme", "domain-owner": "111111111111", q: ["b c", "a~*"], "ü/x": "1+1=2" };
    const request = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8080,
      path: "/v1/some%20thing/caf%C3%A9",
      query,
      headers: { host: "127.0.0.1:8080", "content-type": "application/json", "x-custom": "  a   b  " },
      body,
    });
    const wireQuery = Object.entries(query)
      .flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((item) => `${encodeURIComponent(k)}=${encodeURIComponent(item)}`),
      )
      .join("&");
    return {
      method: request.method,
      path: request.path,
      query: wireQuery,
      rawHeaders: Object.entries(request.headers).flat(),
      body: Buffer.from(body),
    };
  }

  it("accepts what the SDK's signer signs, tricky path, query and headers included", async () => {
    const request = await signedBySdk('{"a":1}');
    const auth = parseAuthorization(request.rawHeaders[request.rawHeaders.indexOf("authorization") + 1]);
    if (typeof auth !== "object") throw new Error("no Authorization header");
    expect(verifySignature(request, auth, secret, "codeartifact")).toEqual({ ok: true });
  });

  it("rejects a changed body, a wrong service scope and a stale clock", async () => {
    const request = await signedBySdk('{"a":1}');
    const auth = parseAuthorization(request.rawHeaders[request.rawHeaders.indexOf("authorization") + 1]);
    if (typeof auth !== "object") throw new Error("no Authorization header");
    expect(
      verifySignature({ ...request, body: Buffer.from('{"a":2}') }, auth, secret, "codeartifact"),
    ).toMatchObject({
      ok: false,
      reason: "signature",
    });
    expect(verifySignature(request, auth, secret, "sts")).toMatchObject({ ok: false, reason: "signature" });
    expect(verifySignature(request, auth, secret, "codeartifact", Date.now() + 10 * 60_000)).toMatchObject({
      ok: false,
      reason: "skew",
    });
  });
});
