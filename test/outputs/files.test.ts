import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createStaging, ownerToGive, writeOutputFiles } from "../../src/outputs/files.ts";
import { TEMP_PREFIX } from "../../src/outputs/folder.ts";
import { caught } from "../support/caught.ts";
import { fileMode } from "../support/output.ts";
import { useTempDir } from "../support/tempDir.ts";

/**
 * The one writer of credential files (src/outputs/files.ts): a 0700 folder (every one it creates),
 * 0600 files written under a temporary name and renamed into place, never through a link; and the
 * staged files the proofs read, removed by `discard`.
 */

const temp = useTempDir("bb-files-");

describe("writeOutputFiles", () => {
  it("creates every missing folder 0700 and writes each file 0600, nothing temporary left", () => {
    const out = path.join(temp(), "build/creds");
    writeOutputFiles(
      out,
      [
        { name: "env", content: "export A='1'\n" },
        { name: "docker/config.json", content: "{}\n" },
      ],
      undefined,
    );
    expect(readFileSync(path.join(out, "env"), "utf8")).toBe("export A='1'\n");
    expect(readFileSync(path.join(out, "docker/config.json"), "utf8")).toBe("{}\n");
    for (const folder of [path.join(temp(), "build"), out, path.join(out, "docker")])
      expect(fileMode(folder)).toBe(0o700);
    for (const file of ["env", "docker/config.json"]) expect(fileMode(path.join(out, file))).toBe(0o600);
    expect(readdirSync(out).sort()).toEqual(["docker", "env"]);
  });

  it("replaces an earlier file whole, and tightens an existing folder's mode", () => {
    const out = path.join(temp(), "o");
    mkdirSync(out, { mode: 0o755 });
    writeFileSync(path.join(out, "env"), "old and longer content\n", { mode: 0o644 });
    writeOutputFiles(out, [{ name: "env", content: "new\n" }], undefined);
    expect(readFileSync(path.join(out, "env"), "utf8")).toBe("new\n");
    expect(fileMode(path.join(out, "env"))).toBe(0o600);
    expect(fileMode(out)).toBe(0o700);
  });

  it("never writes through a symlink at a file or at the folder: exit 2", () => {
    const dir = temp();
    const out = path.join(dir, "o");
    mkdirSync(out);
    writeFileSync(path.join(dir, "victim"), "keep");
    symlinkSync(path.join(dir, "victim"), path.join(out, "env"));
    const error = caught(() => writeOutputFiles(out, [{ name: "env", content: "x" }], undefined));
    expect(error.kind).toBe("input");
    expect(error.message).toMatch(/is a symbolic link/);
    expect(readFileSync(path.join(dir, "victim"), "utf8")).toBe("keep");

    const linkedFolder = path.join(dir, "linked");
    symlinkSync(out, linkedFolder);
    expect(
      caught(() => writeOutputFiles(linkedFolder, [{ name: "npmrc", content: "x" }], undefined)).kind,
    ).toBe("input");
    expect(existsSync(path.join(out, "npmrc"))).toBe(false);
  });

  it("a folder it cannot create is exit 1 naming the path and the cause", () => {
    const dir = temp();
    writeFileSync(path.join(dir, "file"), "");
    const error = caught(() =>
      writeOutputFiles(path.join(dir, "file/o"), [{ name: "env", content: "x" }], undefined),
    );
    expect(error.kind).toBe("internal");
    expect(error.message).toMatch(/^Could not write .*file\/o: ENOTDIR/);
  });
});

describe("createStaging", () => {
  it("stages under a temporary name beside the final one, 0600, and discard removes every one", () => {
    const out = path.join(temp(), "o");
    const staging = createStaging(out, undefined);
    const token = staging.stage("web-identity-token", "a.b.c");
    const config = staging.stage("aws-config", "[default]\n");
    expect(path.dirname(token)).toBe(out);
    expect(path.basename(token).startsWith(`${TEMP_PREFIX}web-identity-token.`)).toBe(true);
    expect(readFileSync(token, "utf8")).toBe("a.b.c");
    expect(fileMode(token)).toBe(0o600);
    expect(fileMode(out)).toBe(0o700);
    expect(existsSync(path.join(out, "web-identity-token"))).toBe(false);
    staging.discard();
    expect(existsSync(token) || existsSync(config)).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    staging.discard();
  });
});

describe("ownerToGive", () => {
  it("nobody to give files to without a clone dir, or when not running as root", () => {
    expect(ownerToGive(undefined)).toBeUndefined();
    if (process.getuid?.() !== 0) expect(ownerToGive(temp())).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)("as root: the clone dir's owner, unless it is root's own", () => {
    const dir = temp();
    expect(ownerToGive(dir)).toBeUndefined();
    chownSync(dir, 1000, 1000);
    expect(ownerToGive(dir)).toEqual({ uid: 1000, gid: 1000 });
    expect(ownerToGive(path.join(dir, "missing"))).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)(
    "as root: every folder created and every file written belong to the owner",
    () => {
      const out = path.join(temp(), "build/creds");
      const owner = { uid: 1000, gid: 1001 };
      writeOutputFiles(out, [{ name: "docker/config.json", content: "{}" }], owner);
      const staged = createStaging(out, owner).stage("aws-config", "x");
      for (const target of [
        path.join(temp(), "build"),
        out,
        path.join(out, "docker"),
        path.join(out, "docker/config.json"),
        staged,
      ]) {
        expect([statSync(target).uid, statSync(target).gid], target).toEqual([1000, 1001]);
      }
      expect(statSync(temp()).uid).toBe(0);
    },
  );
});
