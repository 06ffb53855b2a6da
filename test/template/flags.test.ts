import { describe, expect, it } from "vitest";
import { parseFlags } from "../../src/template/flags.ts";
import { BASE, REPO, REPO2, run, WS_UUID } from "../support/template.ts";

/**
 * `template`'s command line (src/template/flags.ts): values by flag, repeatable flags, and one
 * problem per bad flag, all at once.
 */

const valuesOf = (argv: string[]) => Object.fromEntries(parseFlags(argv).values);

describe("parseFlags: values", () => {
  it("reads --flag VALUE and --flag=VALUE alike, values trimmed", () => {
    expect(valuesOf(["--workspace", " acme ", "--role-name=r"])).toEqual({
      workspace: ["acme"],
      "role-name": ["r"],
    });
  });

  it("collects repeatable flags in order; UUIDs and CIDRs split at commas, audiences never", () => {
    expect(
      valuesOf([
        "--repository-uuid",
        "a,b",
        "--repository-uuid=c",
        "--source-ip",
        "192.0.2.0/24, 198.51.100.0/24",
        "--audience",
        "x,y",
      ]),
    ).toEqual({
      "repository-uuid": ["a", "b", "c"],
      "source-ip": ["192.0.2.0/24", "198.51.100.0/24"],
      audience: ["x,y"],
    });
  });

  it("takes switches bare or as =true/=false, and -h/-v for help and version", () => {
    expect(valuesOf(["--from-token"])).toEqual({ "from-token": ["true"] });
    expect(valuesOf(["--from-token=FALSE"])).toEqual({ "from-token": ["false"] });
    expect(valuesOf(["-h", "-v"])).toEqual({ help: ["true"], version: ["true"] });
  });

  it("reads everything after -- as arguments, not flags", () => {
    const parsed = parseFlags(["--workspace", "acme", "--", "--role-name"]);
    expect(Object.fromEntries(parsed.values)).toEqual({ workspace: ["acme"] });
    expect(parsed.problems).toEqual([
      'Unexpected argument "--role-name": every input is a --flag (see template --help).',
    ]);
  });
});

describe("parseFlags: problems, one per bad flag", () => {
  it("names an unknown flag once, with the flag it resembles, and not its value again", () => {
    expect(parseFlags(["--role", "x"]).problems).toEqual([
      "Unknown flag --role. Did you mean --role-name? template --help lists the flags.",
    ]);
    expect(parseFlags(["--cdk-acess=full"]).problems).toEqual([
      "Unknown flag --cdk-acess. Did you mean --cdk-access? template --help lists the flags.",
    ]);
    expect(parseFlags(["--zzzzzzzz"]).problems).toEqual([
      "Unknown flag --zzzzzzzz. template --help lists the flags.",
    ]);
  });

  it("a flag left without its value: that one problem, the next flag still read", () => {
    const parsed = parseFlags(["--role-name", "--format", "json"]);
    expect(parsed.problems).toEqual(["--role-name needs a value: --role-name VALUE or --role-name=VALUE."]);
    expect(Object.fromEntries(parsed.values)).toEqual({ format: ["json"] });
    expect(parsed.given.has("role-name")).toBe(true);
    expect(parseFlags(["--role-name"]).problems).toHaveLength(1);
    expect(parseFlags(["--role-name="]).problems).toEqual([
      "--role-name needs a value: --role-name VALUE or --role-name=VALUE.",
    ]);
  });

  it("a single-value flag given twice, a switch with a value, a stray argument", () => {
    expect(parseFlags(["--workspace", "a", "--workspace", "b"]).problems).toEqual([
      "--workspace is given more than once; give it once.",
    ]);
    expect(parseFlags(["--from-token=maybe"]).problems).toEqual([
      '--from-token takes no value (or =true/=false), not "maybe".',
    ]);
    expect(parseFlags(["extra"]).problems).toEqual([
      'Unexpected argument "extra": every input is a --flag (see template --help).',
    ]);
  });

  it("reports every problem at once, in the order given", () => {
    expect(parseFlags(["--bogus", "--workspace", "a", "--workspace=b", "stray"]).problems).toEqual([
      "Unknown flag --bogus. template --help lists the flags.",
      "--workspace is given more than once; give it once.",
      'Unexpected argument "stray": every input is a --flag (see template --help).',
    ]);
  });
});

describe("the command line, end to end of the template", () => {
  it("--flag=value means the same as --flag value, and repeatable flags take commas", () => {
    const spaced = run([
      ...BASE,
      "--repository-uuid",
      REPO2,
      "--max-session-duration",
      "7200",
      "--role-name",
      "r",
    ]);
    const equals = run([
      "--workspace=acme",
      `--workspace-uuid=${WS_UUID}`,
      `--repository-uuid=${REPO},${REPO2}`,
      "--max-session-duration=7200",
      "--role-name=r",
    ]);
    expect(equals.output).toBe(spaced.output);
    expect(spaced.template.Resources.DeploymentRole.Properties.MaxSessionDuration).toBe(7200);
  });
});
