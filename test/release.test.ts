/**
 * One version everywhere a user or the release pipeline reads it: package.json (npx and the image's
 * --version), pipe.yml's image tag (what Bitbucket shows), the README's and docs' snippets (what
 * users paste), the top of CHANGELOG.md. One name too: pipe.yml's `image:` (a reference Docker Hub
 * accepts) and `repository:` are the definition; the Dockerfile's labels, package.json's links and
 * the README agree with them, and the release pipeline reads the image from pipe.yml. And a
 * release pipeline that builds what pipe.yml names, on both architectures natively.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { dockerfileBase } from "./support/docker.ts";
import { ROOT } from "./support/pipe.ts";

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const { version } = JSON.parse(read("package.json")) as { version: string };
const pipeYml = parseYaml(read("pipe.yml")) as { image: string; repository: string };
/** pipe.yml's image without its tag: what Docker Hub hosts. */
const imageName = pipeYml.image.slice(0, pipeYml.image.lastIndexOf(":"));
/** Every page a user reads: the README and docs/. */
const userPages = (): Array<[file: string, text: string]> => [
  ["README.md", read("README.md")],
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f): [string, string] => [`docs/${f}`, read(`docs/${f}`)]),
];

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

  it("is every version in the README's and docs' snippets (pipe: and npx)", () => {
    const readme = read("README.md");
    // At least the YAML Definition's `pipe:` line and an npx line.
    expect(versionsIn(readme)).toContain(`:${version}`);
    expect(versionsIn(readme)).toContain(`@${version}`);
    for (const [file, text] of userPages()) {
      expect(
        versionsIn(text).filter((v) => v.slice(1) !== version),
        file,
      ).toEqual([]);
    }
  });

  it("heads CHANGELOG.md", () => {
    const top = /^## \[?(\d+\.\d+\.\d+[\w.+-]*)\]?/m.exec(read("CHANGELOG.md"))?.[1];
    expect(top).toBe(version);
  });
});

describe("the names users and registries see", () => {
  it("pipe.yml's image is a reference Docker Hub accepts: a namespace of 4-30 lower-case letters and digits", () => {
    const match = /^([^/]+)\/([^/:]+):([^:]+)$/.exec(pipeYml.image);
    expect(match, pipeYml.image).not.toBeNull();
    const [, namespace = "", repository = ""] = match ?? [];
    expect(namespace).toMatch(/^[a-z0-9]{4,30}$/);
    // Docker Hub repository names: lower case, digits and single separators . _ -, 2-255 long.
    expect(repository).toMatch(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/);
    expect(repository.length).toBeGreaterThanOrEqual(2);
    expect(repository).toBe("bitbucket-aws-oidc");
  });

  it("pipe.yml's repository is the Bitbucket repository that holds it, named like the package", () => {
    expect(pipeYml.repository).toMatch(/^https:\/\/bitbucket\.org\/[a-z0-9_-]+\/bitbucket-aws-oidc$/);
  });

  it("the Dockerfile's labels name the same repository and image", () => {
    const dockerfile = read("Dockerfile");
    const label = (name: string) =>
      new RegExp(`org\\.opencontainers\\.image\\.${name}="([^"]*)"`).exec(dockerfile)?.[1];
    expect(label("source")).toBe(pipeYml.repository);
    expect(label("url")).toBe(`https://hub.docker.com/r/${imageName}`);
    expect(label("vendor")).toBe(imageName.split("/")[0]);
    expect(label("licenses")).toBe("Apache-2.0");
  });

  it("package.json links to the same repository", () => {
    const pkg = JSON.parse(read("package.json")) as {
      repository: { type: string; url: string };
      homepage: string;
      bugs: { url: string };
      license: string;
    };
    expect(pkg.repository).toEqual({ type: "git", url: `git+${pipeYml.repository}.git` });
    expect(pkg.homepage).toBe(`${pipeYml.repository}#readme`);
    expect(pkg.bugs.url).toBe(`${pipeYml.repository}/issues`);
    expect(pkg.license).toBe("Apache-2.0");
    expect(read("LICENSE")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  it("the README shows both forms of the pipe: the Bitbucket repository and docker://", () => {
    const readme = read("README.md");
    const bitbucketRepo = pipeYml.repository.replace("https://bitbucket.org/", "");
    expect(readme).toContain(`- pipe: ${bitbucketRepo}:${version}\n`);
    expect(readme).toContain(`- pipe: docker://${pipeYml.image}\n`);
    // No other image or repository name in a pipe: line of ours, anywhere users read.
    for (const [file, text] of userPages()) {
      for (const [, ref = ""] of text.matchAll(/pipe: +(\S*bitbucket-aws-oidc\S*)/g)) {
        expect([`${bitbucketRepo}:${version}`, `docker://${pipeYml.image}`], `${file}: ${ref}`).toContain(
          ref,
        );
      }
    }
  });

  it("every npx line pins bitbucket-aws-oidc@<version>, and the README says why", () => {
    const pages: Array<[string, string]> = [...userPages(), ["CONTRIBUTING.md", read("CONTRIBUTING.md")]];
    let seen = 0;
    for (const [file, text] of pages) {
      // The lines users copy: inside fenced code blocks.
      const code = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? "").join("\n");
      for (const line of code.split("\n")) {
        if (!/\bnpx\b.*bitbucket-aws-oidc/.test(line)) continue;
        seen++;
        expect(line, file).toMatch(/\bnpx (?:--yes )?bitbucket-aws-oidc@\d+\.\d+\.\d+/);
        expect(line, file).toContain(`bitbucket-aws-oidc@${version}`);
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(read("README.md")).toMatch(/supply[- ]chain/i);
  });

  it("no registry host is written into the repository's pages (the registry comes from npm config)", () => {
    const pages = [
      ...userPages(),
      ["CONTRIBUTING.md", read("CONTRIBUTING.md")],
      ["bitbucket-pipelines.yml", read("bitbucket-pipelines.yml")],
      [".ci/run", read(".ci/run")],
    ];
    for (const [file, text] of pages) {
      expect(text, file).not.toMatch(/registry\.npmjs\.org|npmjs\.com|deb\.debian\.org/i);
    }
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

  it("tests every push with .ci/run, the one full run (npm ci, lint, typecheck, npm test)", () => {
    const [test] = config.pipelines.default;
    expect(script(test?.step as Step)).toMatch(/^\.ci\/run$/m);
    expect(test?.step?.services).toContain("docker");
    const run = read(".ci/run");
    for (const command of ["npm ci", "npm run lint", "npm run typecheck", "npm test"])
      expect(run).toMatch(new RegExp(`^${command}\\b`, "m"));
  });

  it(".ci/run starts no Docker engine where one answers, and installs every client the tests require", () => {
    const run = read(".ci/run");
    // A syntax error would only show on the CI machine: bash parses it here.
    execFileSync("bash", ["-n", path.join(ROOT, ".ci/run")]);
    // docker.io (dockerd) only in the branch where `docker info` fails.
    expect(run).toMatch(
      /if command -v docker >\/dev\/null && docker info[^\n]*\n(?:[^\n]*\n)*?else\n\s+packages\+=\(docker\.io\)\n/,
    );
    const packages = [...run.matchAll(/^packages\+?=\(([^)]*)\)/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/),
    );
    // Every apt-get hint a test prints for a client it requires (test/**: requireTool) is in the list.
    const hints = new Set<string>();
    for (const file of [
      "test/e2e/codeartifact.test.ts",
      "test/e2e/core.test.ts",
      "test/e2e/ecr.test.ts",
      "test/e2e/matrix.test.ts",
      "test/container/pipe.test.ts",
    ]) {
      for (const m of read(file).matchAll(/apt-get install -y ([\w.-]+)/g)) hints.add(m[1] as string);
    }
    expect(hints.size).toBeGreaterThan(3);
    for (const hint of hints) expect(packages, hint).toContain(hint);
    for (const npmTool of ["pnpm@10", "yarn@1", "@yarnpkg/cli-dist@4"]) expect(run).toContain(npmTool);
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
    const manifest = items.find((item) => item.step && script(item.step).includes("docker manifest"))
      ?.step as Step;
    expect(script(manifest)).toContain(
      'docker manifest create "$IMAGE:$BITBUCKET_TAG" "$IMAGE:$BITBUCKET_TAG-amd64" "$IMAGE:$BITBUCKET_TAG-arm64"',
    );
    expect(script(manifest)).toContain('docker manifest push "$IMAGE:$BITBUCKET_TAG"');
  });

  it("publishes to npm last, the smoke-tested tarball, with a token from a secured variable and the configured registry", () => {
    const items = Object.entries(config.pipelines.tags).find(([glob]) => glob.includes("*.*"))?.[1] ?? [];
    const last = items.at(-1)?.step as Step;
    const lines = script(last);
    expect(lines).toMatch(/npm pack/);
    expect(lines).toMatch(/--version\)" = "\$BITBUCKET_TAG" \]/);
    expect(lines).toContain('REGISTRY="$(npm config get registry)"');
    // npm expands the variable from its config file: "${NPM_TOKEN}" is written as is, not a template.
    expect(lines).toMatch(/_authToken=\$\{NPM_TOKEN\}/);
    expect(lines).toMatch(/npm publish "\$TARBALL" --access public/);
    // The smoke test comes before the publish; the token never appears in a command line.
    expect(lines.indexOf("--version")).toBeLessThan(lines.indexOf("npm publish"));
    expect(lines).not.toMatch(/\$NPM_TOKEN|"\$\{NPM_TOKEN\}"/);
  });

  it("pushes the image pipe.yml names (read from pipe.yml, the same way the steps do)", () => {
    // The steps' sed: the text before the tag on pipe.yml's `image:` line.
    const sed = /^image: *([^:]*):.*/m.exec(read("pipe.yml"))?.[1];
    expect(sed).toBe(pipeYml.image.slice(0, pipeYml.image.lastIndexOf(":")));
  });

  it("builds on the base the Dockerfile pins by digest, through a global build argument", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfileBase(dockerfile)).toMatch(
      /^gcr\.io\/distroless\/nodejs24-debian12@sha256:[0-9a-f]{64}$/,
    );
    // Declared before the first FROM (a global argument), used by it: a test can pass a stand-in.
    const firstFrom = dockerfile.search(/^FROM /m);
    expect(dockerfile.slice(0, firstFrom)).toMatch(/^ARG BASE_IMAGE=\S+@sha256:[0-9a-f]{64}$/m);
    expect(dockerfile.slice(firstFrom)).toMatch(/^FROM \$\{BASE_IMAGE\}$/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(1);
  });
});
