import { execFileSync } from "node:child_process";

export function hasTool(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v '${command}'`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * A test whose real client is missing skips itself with the install hint on a laptop; under
 * CI=true a missing client is a failure, so CI can never pass by skipping.
 */
export function requireTool(
  ctx: { skip: (note?: string) => void },
  command: string,
  installHint: string,
): void {
  if (hasTool(command)) return;
  const message = `${command} is not installed (${installHint})`;
  if (process.env.CI === "true") throw new Error(`${message}: CI must have it.`);
  ctx.skip(message);
}
