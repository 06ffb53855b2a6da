/**
 * The world as a whole (test/world/index.ts): its servers start and close.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { describe, expect, it } from "vitest";
import { startWorld } from "./index.ts";

describe("lifecycle", () => {
  it("closes both servers", async () => {
    const other = await startWorld({ issuer: { workspace: "initech" } });
    const { endpoint, issuer } = other;
    expect((await fetch(issuer.jwksUrl)).status).toBe(200);
    await other.close();
    await expect(fetch(endpoint)).rejects.toThrow();
    await expect(fetch(issuer.jwksUrl)).rejects.toThrow();
  });
});
