/**
 * One version everywhere a user or the release pipeline reads it: package.json (npx and the image's
 * --version), pipe.yml's image tag (what Bitbucket shows), the README's snippets (what users paste),
 * the top of CHANGELOG.md; and a release pipeline that builds what pipe.yml names, on both
 * architectures natively.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { dockerfileBase } from "../support/docker.ts";
import { ROOT } from "../support/pipe.ts";

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const { version } = JSON.parse(read("package.json")) as { version: string };
const pipeYml = parseYaml(read("pipe.yml")) as { image: string };

/** Every `bitbucket-aws-oidc:<version>` (a pipe reference) and `bitbucket-aws-oidc@<version>` (npx) in a text. */
const versionsIn = (text: string) =>
  [...text.matchAll(/bitbucket-aws-oidc([:@])(\d+\.\d+\.\d+[\w.+-]*)/g)].map((m) => `${m[1]}${m[2]}`);

describe("the version", () => {
  it("is a semantic version", () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+(?:-[\w.]+)?$/);
  });

  it("is pipe.yml's image tag", () => {
    expect(pipeYml.image).toMatch(/^[\w.-]+\/bitbucket-aws-oidc:[^:]+$/);
    expect(pipeYml.image.split(":").at(-1)).toBe(version);
  });

  it("is every version in the README's snippets (pipe: and npx)", () => {
    const readme = read("README.md");
    const found = versionsIn(readme);
    // At least the YAML Definition's `pipe:` line.
    expect(found).toContain(`:${version}`);
    expect(readme).toContain(`- pipe: ${pipeYml.image}\n`);
    expect(found.filter((v) => v.slice(1) !== version)).toEqual([]);
  });

  it("heads CHANGELOG.md", () => {
    const top = /^## \[?(\d+\.\d+\.\d+[\w.+-]*)\]?/m.exec(read("CHANGELOG.md"))?.[1];
    expect(top).toBe(version);
  });
});

describe("the release pipeline (bitbucket-pipelines.yml)", () => {
  type Step = {
    name: string;
    image?: string;
    script: string[];
    services?: string[];
    runtime?: { cloud?: { arch?: string } };
  };
  type Item = { step?: Step; parallel?: Array<{ step: Step }> };
  const config = parseYaml(read("bitbucket-pipelines.yml")) as {
    pipelines: { default: Item[]; tags: Record<string, Item[]> };
  };
  const script = (step: Step) => step.script.join("\n");

  it("tests every push: npm ci, lint, typecheck, npm test", () => {
    const [test] = config.pipelines.default;
    const lines = script(test?.step as Step);
    for (const command of ["npm ci", "npm run lint", "npm run typecheck", "npm test"])
      expect(lines).toContain(command);
  });

  it("on a version tag: tests, then builds amd64 and arm64 natively in parallel and joins them", () => {
    const release = Object.entries(config.pipelines.tags).find(([glob]) => glob.includes("*.*"));
    expect(release).toBeDefined();
    const items = release?.[1] ?? [];
    expect(items[0]?.step?.name).toBe(config.pipelines.default[0]?.step?.name);
    const parallel = items.find((item) => item.parallel)?.parallel?.map((p) => p.step) ?? [];
    expect(parallel).toHaveLength(2);
    const arm = parallel.find((step) => step.runtime?.cloud?.arch === "arm");
    const amd = parallel.find((step) => step.runtime?.cloud?.arch === undefined);
    expect(arm).toBeDefined();
    expect(amd).toBeDefined();
    for (const step of parallel) {
      expect(step.services).toContain("docker");
      // No QEMU, no cross-building: the step's own architecture.
      expect(script(step)).not.toMatch(/--platform|binfmt|qemu|buildx/i);
      expect(script(step)).toMatch(/docker build .*\n?.*--tag "\$IMAGE:\$BITBUCKET_TAG-\$ARCH"/);
      expect(script(step)).toContain('docker push "$IMAGE:$BITBUCKET_TAG-$ARCH"');
    }
    const last = items.at(-1)?.step as Step;
    expect(script(last)).toContain(
      'docker manifest create "$IMAGE:$BITBUCKET_TAG" "$IMAGE:$BITBUCKET_TAG-amd64" "$IMAGE:$BITBUCKET_TAG-arm64"',
    );
    expect(script(last)).toContain('docker manifest push "$IMAGE:$BITBUCKET_TAG"');
  });

  it("pushes the image pipe.yml names (read from pipe.yml, the same way the steps do)", () => {
    // The steps' sed: the text before the tag on pipe.yml's `image:` line.
    const sed = /^image: *([^:]*):.*/m.exec(read("pipe.yml"))?.[1];
    expect(sed).toBe(pipeYml.image.slice(0, pipeYml.image.lastIndexOf(":")));
  });

  it("builds on the base the Dockerfile names, one Bitbucket can pull for both architectures", () => {
    expect(dockerfileBase(read("Dockerfile"))).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:/);
  });
});
