import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkOutputDir,
  checkOutputFolder,
  OUTPUT_FILES,
  removeOutputFiles,
  TEMP_PREFIX,
} from "../../src/outputs/folder.ts";
import { caught } from "../support/caught.ts";
import { useTempDir } from "../support/tempDir.ts";

/**
 * OUTPUT_DIR itself (src/outputs/folder.ts): checked before any request (no link, not a file,
 * inside the clone dir), and emptied of every credential file and temporary file on failure.
 */

const temp = useTempDir("bb-folder-");

describe("checkOutputDir", () => {
  it("a missing folder, or one without links, is fine", () => {
    const clone = temp();
    expect(() => checkOutputDir(path.join(clone, "not/yet"), clone)).not.toThrow();
    mkdirSync(path.join(clone, "o"));
    writeFileSync(path.join(clone, "o/env"), "");
    expect(() => checkOutputDir(path.join(clone, "o"), clone)).not.toThrow();
  });

  it("refuses a link at the folder, at any file it writes, or at docker/: exit 2", () => {
    const clone = temp();
    const elsewhere = path.join(clone, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(clone, "linked"));
    expect(caught(() => checkOutputDir(path.join(clone, "linked"), clone)).message).toMatch(
      /^OUTPUT_DIR: the folder .*linked is a symbolic link/,
    );
    for (const name of ["aws-credentials", "docker"]) {
      const out = path.join(clone, `o-${name}`);
      mkdirSync(out);
      symlinkSync(elsewhere, path.join(out, name));
      const error = caught(() => checkOutputDir(out, clone));
      expect(error.kind).toBe("input");
      expect(error.message).toContain(path.join(out, name));
    }
  });

  it("refuses a file where the folder should be", () => {
    const clone = temp();
    writeFileSync(path.join(clone, "o"), "");
    expect(caught(() => checkOutputFolder(path.join(clone, "o"), clone)).message).toMatch(
      /exists and is not a folder/,
    );
  });

  it("refuses a folder that leaves the clone dir through a symlinked parent", () => {
    const root = temp();
    const clone = path.join(root, "clone");
    const outside = path.join(root, "outside");
    mkdirSync(clone);
    mkdirSync(outside);
    symlinkSync(outside, path.join(clone, "up"));
    expect(caught(() => checkOutputFolder(path.join(clone, "up/creds"), clone)).message).toMatch(
      /leads outside BITBUCKET_CLONE_DIR .* through a symbolic link/,
    );
    expect(() => checkOutputFolder(path.join(clone, "up/creds"), undefined)).not.toThrow();
  });
});

describe("removeOutputFiles", () => {
  it("removes every file the pipe writes and every temporary file, and nothing else", () => {
    const out = path.join(temp(), "o");
    mkdirSync(path.join(out, "docker"), { recursive: true });
    for (const name of OUTPUT_FILES) writeFileSync(path.join(out, name), "secret");
    writeFileSync(path.join(out, `${TEMP_PREFIX}env.42.1700000000000`), "half");
    writeFileSync(path.join(out, "docker", `${TEMP_PREFIX}config.json.1.2`), "half");
    writeFileSync(path.join(out, ".env.4242.1700000000000.tmp"), "older run");
    writeFileSync(path.join(out, "mine.txt"), "the user's");
    const removed = removeOutputFiles(out, undefined);
    expect(removed).toEqual(
      expect.arrayContaining([
        ...OUTPUT_FILES,
        `${TEMP_PREFIX}env.42.1700000000000`,
        ".env.4242.1700000000000.tmp",
      ]),
    );
    expect(readdirSync(out).sort()).toEqual(["docker", "mine.txt"]);
    expect(readdirSync(path.join(out, "docker"))).toEqual([]);
  });

  it("a link among them is removed itself, never what it points at", () => {
    const dir = temp();
    const out = path.join(dir, "o");
    mkdirSync(out);
    writeFileSync(path.join(dir, "victim"), "keep");
    symlinkSync(path.join(dir, "victim"), path.join(out, "env"));
    expect(removeOutputFiles(out, undefined)).toEqual(["env"]);
    expect(readFileSync(path.join(dir, "victim"), "utf8")).toBe("keep");
  });

  it("leaves a linked folder, a linked docker/ and a folder outside the clone dir alone", () => {
    const dir = temp();
    const elsewhere = path.join(dir, "elsewhere");
    mkdirSync(path.join(elsewhere, "docker"), { recursive: true });
    writeFileSync(path.join(elsewhere, "env"), "keep");
    writeFileSync(path.join(elsewhere, "docker/config.json"), "keep");
    symlinkSync(elsewhere, path.join(dir, "linked"));
    expect(removeOutputFiles(path.join(dir, "linked"), undefined)).toEqual([]);
    const out = path.join(dir, "o");
    mkdirSync(out);
    symlinkSync(path.join(elsewhere, "docker"), path.join(out, "docker"));
    expect(removeOutputFiles(out, undefined)).toEqual([]);
    expect(existsSync(path.join(elsewhere, "docker/config.json"))).toBe(true);
    const clone = path.join(dir, "clone");
    mkdirSync(clone);
    expect(removeOutputFiles(elsewhere, clone)).toEqual([]);
    expect(existsSync(path.join(elsewhere, "env"))).toBe(true);
  });

  it("a folder that is not there: nothing to do", () => {
    expect(removeOutputFiles(path.join(temp(), "none"), undefined)).toEqual([]);
  });
});
