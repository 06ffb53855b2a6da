import { describe, expect, it } from "vitest";
import {
  checkControlCharacters,
  Problems,
  parseAccountIds,
  parseBoolean,
  parseInteger,
  read,
  shown,
  splitList,
} from "../../src/config/read.ts";
import { parsedBy } from "../support/config.ts";

/** The parsers' common ground (src/config/read.ts): reading a variable, and every problem at once. */

describe("read and splitList", () => {
  it("reads a value trimmed; empty and blank count as unset (Bitbucket passes unset variables as '')", () => {
    expect(read({ A: "  x  " }, "A")).toBe("x");
    expect(read({ A: "" }, "A")).toBeUndefined();
    expect(read({ A: " \t " }, "A")).toBeUndefined();
    expect(read({}, "A")).toBeUndefined();
  });

  it("splits at commas and any blank, dropping empty items", () => {
    expect(splitList(" a, b\n c,,d\te ")).toEqual(["a", "b", "c", "d", "e"]);
    expect(splitList(" , ")).toEqual([]);
  });
});

describe("Problems and shown", () => {
  it("keeps every problem, each one printable line whatever the value held", () => {
    const problems = new Problems();
    problems.add("A is bad: x\ny");
    problems.add("B is bad: \u001b[31m");
    expect(problems.list).toEqual(["A is bad: x\\ny", "B is bad: \\x1b[31m"]);
  });

  it("quotes a value, and shows a long one only by its ends (it may be a pasted secret)", () => {
    expect(shown("eu-west-1")).toBe('"eu-west-1"');
    const long = `AKIA${"X".repeat(60)}`;
    expect(shown(long)).not.toContain(long);
    expect(shown(long).length).toBeLessThan(long.length);
  });
});

describe("checkControlCharacters", () => {
  it("refuses a control character in any variable of the pipe or the proxy, by name and position", () => {
    const problems = new Problems();
    checkControlCharacters(
      { AWS_REGION: "eu-\u0007west-1", HTTPS_PROXY: "http://p\r", UNRELATED: "\u0000" },
      problems,
    );
    expect(problems.list).toEqual([
      "AWS_REGION contains a control character (\\x07 at position 4); it must be on one line: set it again without it.",
      "HTTPS_PROXY contains a control character (\\r at position 9); it must be on one line: set it again without it.",
    ]);
  });

  it("lets tab, CR and LF separate the items of a list, and nothing else", () => {
    const problems = new Problems();
    checkControlCharacters(
      {
        AWS_PROFILES: "a=x\r\n\tb=y",
        AWS_SESSION_POLICY: '{\n\t"Version": "2012-10-17"\n}',
        ECR_REGISTRY_IDS: "1\u001b",
      },
      problems,
    );
    expect(problems.list).toEqual([
      "ECR_REGISTRY_IDS contains a control character (\\x1b at position 2): set it again without it.",
    ]);
  });
});

describe("typed variables, their defaults from the registry", () => {
  it("parseBoolean: true/false in any case, else a problem and the default", () => {
    expect(parsedBy((env, p) => parseBoolean(env, "verify", p), {})).toEqual({ value: true, problems: [] });
    expect(parsedBy((env, p) => parseBoolean(env, "verify", p), { VERIFY: "FaLsE" }).value).toBe(false);
    expect(parsedBy((env, p) => parseBoolean(env, "debug", p), { DEBUG: "1" })).toEqual({
      value: false,
      problems: ['DEBUG must be true or false, got "1".'],
    });
  });

  it("parseInteger: digits only, within the range given", () => {
    const attempts = (env: NodeJS.ProcessEnv) =>
      parsedBy((e, p) => parseInteger(e, "maxAttempts", (n) => n >= 1 && n <= 20, "from 1 to 20", p), env);
    expect(attempts({})).toEqual({ value: 5, problems: [] });
    expect(attempts({ AWS_MAX_ATTEMPTS: "20" }).value).toBe(20);
    for (const bad of ["0", "21", "1.5", "-1", "1e1", "five"]) {
      expect(attempts({ AWS_MAX_ATTEMPTS: bad }).problems).toEqual([
        `AWS_MAX_ATTEMPTS must be a whole number from 1 to 20, got "${bad}".`,
      ]);
    }
  });

  it("parseAccountIds: 12-digit ids, each once, the bad ones listed", () => {
    expect(
      parsedBy((e, p) => parseAccountIds(e, "IDS", p), { IDS: "111111111111 222222222222,111111111111" }),
    ).toEqual({
      value: ["111111111111", "222222222222"],
      problems: [],
    });
    expect(parsedBy((e, p) => parseAccountIds(e, "IDS", p), { IDS: "111111111111,12,x" })).toEqual({
      value: ["111111111111"],
      problems: ['IDS must be comma-separated 12-digit AWS account ids; not one: "12", "x".'],
    });
  });
});
