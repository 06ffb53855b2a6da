import { describe, expect, it } from "vitest";
import { MASKED_ACCOUNT, REDACTED } from "../src/log.ts";
import { capturedLog } from "./support/log.ts";

/**
 * The log a person reads (src/log.ts): one line per call with its prefix, untrusted text escaped,
 * secrets removed in any form, debug fields redacted by key, account ids masked when asked.
 */

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

describe("lines", () => {
  it("each level has its prefix; debug only when asked", () => {
    const { log, lines } = capturedLog();
    log.debug("hidden");
    log.info("info");
    log.warn("warn");
    log.detail("  detail");
    log.success("done");
    log.failure("failed");
    log.setDebug(true);
    log.debug("shown");
    expect(lines()).toEqual([
      "INFO: info",
      "WARNING: warn",
      "  detail",
      "✔ done",
      "✖ failed",
      "DEBUG: shown",
    ]);
  });

  it("one line per call, whatever the text holds: line breaks and escapes are shown escaped", () => {
    const { log, lines } = capturedLog();
    log.info("AWS said: no\n✔ forged success\u001b[32m");
    expect(lines()).toEqual(["INFO: AWS said: no\\n✔ forged success\\x1b[32m"]);
  });

  it("debug fields follow the message as JSON, secret keys redacted at any depth one level down", () => {
    const { log, lines } = capturedLog({ debug: true });
    log.debug("answer", {
      roleArn: "arn:x",
      credentials: { SecretAccessKey: "k", Expiration: "2030" },
      token: "t",
    });
    expect(lines()).toEqual([
      `DEBUG: answer {"roleArn":"arn:x","credentials":{"SecretAccessKey":"${REDACTED}","Expiration":"2030"},"token":"${REDACTED}"}`,
    ]);
  });
});

describe("secrets", () => {
  it("a secret added is removed from every later line: whole, cut, JSON-escaped, in debug fields", () => {
    const { log, lines } = capturedLog({ debug: true });
    log.addSecret(SECRET);
    log.info(`key ${SECRET}`);
    log.warn(`cut …${SECRET.slice(3, 22)}`);
    log.debug("fields", { note: SECRET });
    for (const line of lines()) {
      expect(line).not.toContain(SECRET.slice(3, 19));
      expect(line).toContain(REDACTED);
    }
  });

  it("a secret whose control characters the escaping rewrote is still found", () => {
    const { log, lines } = capturedLog();
    const secret = "line1-abcdefghij\nline2-klmnopqrst";
    log.addSecret(secret);
    log.info(`value: ${secret}`);
    expect(lines()).toEqual([`INFO: value: ${REDACTED}`]);
  });

  it("a user:password pair: the password and the base64 of the pair", () => {
    const { log, lines } = capturedLog();
    log.addBasicPair("proxyuser", "proxy-password");
    log.info(`Basic ${Buffer.from("proxyuser:proxy-password").toString("base64")} proxy-password`);
    expect(lines()).toEqual([`INFO: Basic ${REDACTED} ${REDACTED}`]);
  });
});

describe("account ids", () => {
  it("masked when asked, also inside ARNs; a longer number is not an account id", () => {
    const { log, lines } = capturedLog();
    log.info("arn:aws:iam::111111111111:role/deploy");
    log.setMaskAccountIds(true);
    log.info("arn:aws:iam::111111111111:role/deploy in 222222222222, not 1234567890123");
    expect(lines()).toEqual([
      "INFO: arn:aws:iam::111111111111:role/deploy",
      `INFO: arn:aws:iam::${MASKED_ACCOUNT}:role/deploy in ${MASKED_ACCOUNT}, not 1234567890123`,
    ]);
  });
});
