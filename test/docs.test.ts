/**
 * The documentation a user follows: every relative link in README.md, docs/*.md, CONTRIBUTING.md
 * and SECURITY.md resolves to a file, every `#anchor` to a heading of its target (slugged the way
 * GitHub and Bitbucket render them), and the README's variables table lists exactly the pipe's own
 * variables as the code registers them, no more and no fewer.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { rowsFor } from "../src/config/variables.ts";
import { ROOT } from "./support/pipe.ts";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

const PAGES = [
  "README.md",
  "CONTRIBUTING.md",
  "SECURITY.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks (their lines blanked, so line numbers stay). */
function withoutCode(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker;
        return "";
      }
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
        return "";
      }
      return line;
    })
    .join("\n");
}

/** GitHub's heading slug (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every heading's anchor in a page, with GitHub's -1, -2 suffixes for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutCode(markdown).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every inline link's target in a page (not inside code), with its line. */
function links(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  withoutCode(markdown)
    .split("\n")
    .forEach((text, index) => {
      const noSpans = text.replace(/`[^`]*`/g, "``");
      for (const m of noSpans.matchAll(/!?\[(?:[^\]]|\][^(])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
        found.push({ target: m[1] as string, line: index + 1 });
    });
  return found;
}

describe("the markdown helpers", () => {
  it("slug headings the way GitHub does", () => {
    expect(slug("Picking a role: `--profile` and `AWS_PROFILE`")).toBe(
      "picking-a-role---profile-and-aws_profile",
    );
    expect(slug("Committed `.npmrc`, `.yarnrc.yml` and other project files")).toBe(
      "committed-npmrc-yarnrcyml-and-other-project-files",
    );
    expect(slug("1. Find your workspace and repository UUIDs")).toBe(
      "1-find-your-workspace-and-repository-uuids",
    );
    expect(slug("The pipe's image")).toBe("the-pipes-image");
    expect([...anchors("# A\n## A\n```\n# A\n```\n## B")]).toEqual(["a", "a-1", "b"]);
  });

  it("find links outside code only", () => {
    const page = "See [a](x.md#y) and `[b](no.md)`.\n```\n[c](no.md)\n```\n[d](https://e) [f](#g)";
    expect(links(page).map((l) => l.target)).toEqual(["x.md#y", "https://e", "#g"]);
  });
});

describe("links in the documentation", () => {
  it.each(PAGES)("%s: every relative link resolves to a file, every #anchor to a heading", (page) => {
    const problems: string[] = [];
    const source = read(page);
    const all = links(source);
    for (const { target, line } of all) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
      const [file = "", anchor] = target.split("#");
      const resolved =
        file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
      if (resolved.startsWith("../") || !existsSync(path.join(ROOT, resolved))) {
        problems.push(`${page}:${line}: ${target}: no file ${resolved}`);
        continue;
      }
      if (anchor !== undefined) {
        if (!resolved.endsWith(".md")) {
          problems.push(`${page}:${line}: ${target}: an anchor into a file that is not markdown`);
          continue;
        }
        if (!anchors(read(resolved)).has(anchor))
          problems.push(`${page}:${line}: ${target}: ${resolved} has no heading #${anchor}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the README links to every page in docs/, and every docs page back to the README", () => {
    const readmeTargets = new Set(links(read("README.md")).map((l) => l.target.split("#")[0]));
    for (const page of PAGES.filter((p) => p.startsWith("docs/"))) {
      expect(readmeTargets, page).toContain(page);
      expect(links(read(page)).map((l) => l.target)).toContain("../README.md");
    }
  });
});

describe("the README", () => {
  const readme = read("README.md");

  it("is at most 25 KB, with a table of contents linking every section", () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(25 * 1024);
    const sections = [...withoutCode(readme).matchAll(/^## (.*)$/gm)].map((m) => slug(m[1] as string));
    const contents = readme.slice(
      readme.indexOf("## Contents"),
      readme.indexOf("\n## ", readme.indexOf("## Contents") + 1),
    );
    const listed = links(contents).map((l) => l.target);
    expect(listed).toEqual(sections.filter((s) => s !== "contents").map((s) => `#${s}`));
  });

  /**
   * The registry (src/config/variables.ts) says who sets each variable: the README's table lists
   * exactly the `pipe` rows; an `alias` row is named in its variable's row; the AWS SDK's settings
   * (docs/network.md), Bitbucket's and the tests' knobs are not in the table.
   */
  const section = readme.slice(
    readme.indexOf("## Variables"),
    readme.indexOf("\n## ", readme.indexOf("## Variables") + 1),
  );
  const rows = new Map(
    [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)`[^|]*\|(.*)\|\s*$/gm)].map((m) => [
      m[1] as string,
      m[2] as string,
    ]),
  );

  it("lists exactly the pipe's own variables, as the registry has them", () => {
    const expected = rowsFor("pipe").map((row) => row.name);
    expect(expected.length).toBeGreaterThan(15);
    expect([...rows.keys()].sort()).toEqual([...expected].sort());
    for (const row of [...rowsFor("sdk"), ...rowsFor("bitbucket"), ...rowsFor("test")])
      expect(rows.has(row.name), row.name).toBe(false);
  });

  it("gives each variable the registry's default, and none where it has none", () => {
    for (const row of rowsFor("pipe")) {
      const text = rows.get(row.name) ?? "";
      if (row.default === undefined) expect(text, row.name).not.toContain("Default:");
      else expect(text, row.name).toMatch(new RegExp(`Default: \`?${escapeRegExp(row.default)}\`?`));
    }
  });

  it("names each other name of a variable in that variable's row", () => {
    const aliases = rowsFor("alias");
    expect(aliases.length).toBeGreaterThan(0);
    for (const alias of aliases)
      expect(rows.get(alias.aliasOf ?? ""), alias.name).toContain(`\`${alias.name}\``);
  });

  it("keeps test knobs out of the documentation", () => {
    for (const row of rowsFor("test"))
      for (const page of PAGES) expect(read(page), `${page}: ${row.name}`).not.toContain(row.name);
  });

  it("marks the required variables (*) and shows every optional one in the YAML Definition", () => {
    const required = [...section.matchAll(/^\| `([A-Z_]+)` \(\*\)/gm)].map((m) => m[1]);
    expect(required).toEqual(["AWS_ROLE_ARN", "AWS_REGION"]);
    const definition = readme.slice(readme.indexOf("## YAML Definition"), readme.indexOf("## Quick start"));
    for (const name of rows.keys()) expect(definition, name).toMatch(new RegExp(`\\b${name}:`));
  });
});
