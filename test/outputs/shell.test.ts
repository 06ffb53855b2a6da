import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { renderDockerEnvFile, renderEnvFile, shellQuote } from "../../src/outputs/shell.ts";
import { requireTool } from "../support/tools.ts";

const dir = mkdtempSync(path.join(tmpdir(), "quote-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sources the rendered file in a real shell and reads the variables back, NUL-separated. */
function roundTrip(shell: string, values: string[]): string[] {
  const file = path.join(dir, "env");
  writeFileSync(file, renderEnvFile(values.map((value, i) => ({ name: `V${i}`, value }))));
  const read = values.map((_, i) => `printf '%s\\0' "$V${i}"`).join("; ");
  const out = execFileSync(shell, ["-c", `. '${file}' && ${read}`], {
    encoding: "utf8",
    env: {},
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.split("\0").slice(0, values.length);
}

// Any string a shell variable can hold: everything but NUL, with the awkward characters made likely.
const shellValue = fc
  .oneof(
    fc.string({
      unit: fc.constantFrom(
        "'",
        '"',
        "$",
        "`",
        "\\",
        "\n",
        "!",
        " ",
        "*",
        "(",
        ")",
        ";",
        "&",
        "|",
        "a",
        "é",
        "\t",
        "#",
        "~",
      ),
    }),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
  )
  .filter((s) => !s.includes("\0"));

describe("shell quoting", () => {
  for (const shell of ["bash", "dash"]) {
    it(`round-trips any value through ${shell}`, (ctx) => {
      requireTool(ctx, shell, `apt-get install -y ${shell}`);
      fc.assert(
        fc.property(fc.array(shellValue, { minLength: 1, maxLength: 8 }), (values) => {
          expect(roundTrip(shell, values)).toEqual(values);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("writes only export and unset lines", () => {
    const text = renderEnvFile([
      { name: "A", value: "it's $(rm -rf /)" },
      { name: "B", unset: true },
    ]);
    expect(text).toBe("export A='it'\\''s $(rm -rf /)'\nunset B\n");
    expect(shellQuote("")).toBe("''");
  });

  it("refuses a bad name and a NUL byte", () => {
    expect(() => renderEnvFile([{ name: "A-B", value: "x" }])).toThrow(/shell variable name/);
    expect(() => renderEnvFile([{ name: "A", value: "x\0y" }])).toThrow(/NUL/);
  });

  it("docker env files carry values literally and skip unsets", () => {
    expect(
      renderDockerEnvFile([
        { name: "A", value: "a'b c" },
        { name: "B", unset: true },
      ]),
    ).toBe("A=a'b c\n");
    expect(() => renderDockerEnvFile([{ name: "A", value: "a\nb" }])).toThrow(/line break/);
  });
});
