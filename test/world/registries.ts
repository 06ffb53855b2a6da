/**
 * Package registries under the paths the world's GetRepositoryEndpoint answers point at
 * (`<registryBase><domain>-<owner>/<format>/<repository>/`), each demanding a token the world's
 * CodeArtifact issued for that domain, the way CodeArtifact does: npm a `Bearer` token, PyPI and
 * Maven HTTP basic auth with user `aws` and the token as password. Anything else is 401, so a
 * real client that installs from here proves the login worked.
 *
 *   const registries = startRegistries(world);
 *   // ... npm install @acme/hello, pip download hello-ca, twine upload, mvn ...
 *   registries.stop();
 *
 * npm:   `@acme/hello` and `hello-ca`, 1.0.0 (packument JSON + tarball)
 * PyPI:  `hello-ca` 1.0.0 wheel in a PEP 503 simple index; uploads (legacy API, as twine and
 *        poetry send them) to the endpoint itself
 * Maven: `com.acme:hello:1.0.0` (pom + jar, with .sha1/.md5)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { digest, type Entry, tgz, wheel, zip } from "./archives.ts";
import type { IssuedToken } from "./codeartifact.ts";
import { readBody } from "./listen.ts";
import type { RawHandler } from "./server.ts";

export interface RegistryHost {
  codeartifact: {
    registryBase: string;
    tokenHolder(token: string): IssuedToken | undefined;
    serveRegistry(handler: RawHandler | undefined): void;
  };
}

export type RegistryFormat = "npm" | "pypi" | "maven";
export type Credential = "bearer" | "basic" | "none" | "invalid";

export interface RegistryRequest {
  format: RegistryFormat | "unknown";
  method: string;
  /** The path below the repository endpoint. */
  path: string;
  /** What the client presented, and whether it was a token this domain issued ("invalid" if not). */
  credential: Credential;
  status: number;
  userAgent: string;
}

export interface Upload {
  domain: string;
  repository: string;
  name: string;
  version: string;
  filename: string;
  /** The uploaded bytes' sha256 matched the `sha256_digest` field the client sent. */
  digestMatches: boolean;
  size: number;
}

export interface Registries {
  requests: RegistryRequest[];
  uploads: Upload[];
  /** From now on the registries refuse this token (401), as if it had expired: a client's negative control. */
  revoke(token: string): void;
  clear(): void;
  /** Unmounts the registries (the world's /ca/ paths answer 404 again). */
  stop(): void;
}

/** What the registries serve, for tests to ask for. */
export const PACKAGES = {
  npmScoped: { name: "@acme/hello", version: "1.0.0", says: "hello from @acme/hello" },
  npmUnscoped: { name: "hello-ca", version: "1.0.0", says: "hello from hello-ca" },
  pypi: { name: "hello-ca", version: "1.0.0", says: "hello from the hello-ca wheel" },
  maven: { groupId: "com.acme", artifactId: "hello", version: "1.0.0" },
} as const;

interface NpmPackage {
  name: string;
  version: string;
  tarball: Buffer;
  filename: string;
}

function npmPackage(p: { name: string; version: string; says: string }): NpmPackage {
  const tarball = tgz([
    {
      name: "package/package.json",
      content: `${JSON.stringify({ name: p.name, version: p.version, main: "index.js", license: "MIT" }, null, 2)}\n`,
    },
    { name: "package/index.js", content: `module.exports = ${JSON.stringify(p.says)};\n` },
  ]);
  const base = p.name.split("/").at(-1) ?? p.name;
  return { name: p.name, version: p.version, tarball, filename: `${base}-${p.version}.tgz` };
}

const NPM = [npmPackage(PACKAGES.npmScoped), npmPackage(PACKAGES.npmUnscoped)];

const WHEEL = wheel({
  name: PACKAGES.pypi.name,
  version: PACKAGES.pypi.version,
  summary: "A wheel served by the test world's PyPI index",
  files: [{ name: "hello_ca/__init__.py", content: `GREETING = ${JSON.stringify(PACKAGES.pypi.says)}\n` }],
});

function mavenFiles(): Map<string, Buffer> {
  const { groupId, artifactId, version } = PACKAGES.maven;
  const dir = `${groupId.replace(/\./g, "/")}/${artifactId}/${version}`;
  const pom = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>${groupId}</groupId>
  <artifactId>${artifactId}</artifactId>
  <version>${version}</version>
  <packaging>jar</packaging>
</project>
`);
  const jarEntries: Entry[] = [
    { name: "META-INF/MANIFEST.MF", content: "Manifest-Version: 1.0\r\nCreated-By: test world\r\n\r\n" },
    { name: "com/acme/hello/hello.txt", content: "hello from com.acme:hello\n" },
  ];
  const jar = zip(jarEntries);
  const files = new Map<string, Buffer>();
  for (const [name, data] of [
    [`${dir}/${artifactId}-${version}.pom`, pom],
    [`${dir}/${artifactId}-${version}.jar`, jar],
  ] as const) {
    files.set(name, data);
    files.set(`${name}.sha1`, Buffer.from(digest("sha1", data)));
    files.set(`${name}.md5`, Buffer.from(digest("md5", data)));
  }
  return files;
}

const MAVEN = mavenFiles();

const ENDPOINT_PATH = /^\/ca\/([a-z][a-z0-9-]*)-(\d{12})\/([a-z]+)\/([^/]+)\/(.*)$/;

/** PEP 503 names: lower case, runs of `-`, `_`, `.` as one `-`. */
const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}) {
  res.writeHead(status, { "content-type": type, ...extra }).end(body);
}

function parseMultipart(body: Buffer, contentType: string): Map<string, { filename?: string; data: Buffer }> {
  const fields = new Map<string, { filename?: string; data: Buffer }>();
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (boundary === undefined) return fields;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // after CRLF, before CRLF
    const split = part.indexOf("\r\n\r\n");
    if (split >= 0) {
      const headers = part.subarray(0, split).toString("utf8");
      const name = /name="([^"]*)"/.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/.exec(headers)?.[1];
      if (name !== undefined) {
        fields.set(name, {
          ...(filename === undefined ? {} : { filename }),
          data: part.subarray(split + 4),
        });
      }
    }
    start = next;
  }
  return fields;
}

export function startRegistries(world: RegistryHost): Registries {
  const { codeartifact } = world;
  const requests: RegistryRequest[] = [];
  const uploads: Upload[] = [];
  const revoked = new Set<string>();

  /** What the request presents, checked against the tokens issued for this domain. */
  function credentialOf(req: IncomingMessage, domain: string, owner: string): Credential {
    const header = req.headers.authorization ?? "";
    let token: string | undefined;
    let kind: Credential = "none";
    const bearer = /^Bearer (.+)$/i.exec(header);
    const basic = /^Basic (.+)$/i.exec(header);
    if (bearer) {
      kind = "bearer";
      token = bearer[1];
    } else if (basic) {
      kind = "basic";
      const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      // CodeArtifact's basic auth: user `aws`, the token as password.
      token = colon >= 0 && decoded.slice(0, colon) === "aws" ? decoded.slice(colon + 1) : undefined;
    }
    if (kind === "none") return kind;
    const holder = token === undefined || revoked.has(token) ? undefined : codeartifact.tokenHolder(token);
    return holder && holder.domain === domain && holder.owner === owner ? kind : "invalid";
  }

  function npm(res: ServerResponse, endpoint: string, method: string, rest: string): number {
    if (method !== "GET" && method !== "HEAD") return reply(res, 405, "method not allowed");
    const path = decodeURIComponent(rest);
    for (const p of NPM) {
      if (path === `${p.name}/-/${p.filename}`) {
        send(res, 200, "application/octet-stream", p.tarball);
        return 200;
      }
      if (path === p.name) {
        const packument = {
          name: p.name,
          "dist-tags": { latest: p.version },
          versions: {
            [p.version]: {
              name: p.name,
              version: p.version,
              main: "index.js",
              license: "MIT",
              dist: {
                tarball: `${endpoint}${p.name}/-/${p.filename}`,
                shasum: digest("sha1", p.tarball),
                integrity: `sha512-${digest("sha512", p.tarball, "base64")}`,
              },
            },
          },
          time: { [p.version]: "2026-01-01T00:00:00.000Z" },
        };
        send(res, 200, "application/json", JSON.stringify(packument));
        return 200;
      }
    }
    send(res, 404, "application/json", JSON.stringify({ error: `package ${path} not found` }));
    return 404;
  }

  async function pypi(
    req: IncomingMessage,
    res: ServerResponse,
    where: { domain: string; repository: string },
    method: string,
    rest: string,
  ): Promise<number> {
    if (method === "POST" && rest === "") return upload(req, res, where);
    if (method !== "GET" && method !== "HEAD") return reply(res, 405, "method not allowed");
    const project = normalize(PACKAGES.pypi.name);
    if (rest === "simple/") {
      send(
        res,
        200,
        "text/html",
        `<!DOCTYPE html>\n<html><body><a href="${project}/">${project}</a></body></html>\n`,
      );
      return 200;
    }
    const page = /^simple\/([^/]+)\/$/.exec(rest);
    if (page && normalize(page[1] ?? "") === project) {
      const hash = digest("sha256", WHEEL.content);
      send(
        res,
        200,
        "text/html",
        `<!DOCTYPE html>\n<html><body><a href="${WHEEL.filename}#sha256=${hash}">${WHEEL.filename}</a></body></html>\n`,
      );
      return 200;
    }
    const file = /^simple\/([^/]+)\/([^/]+)$/.exec(rest);
    if (file && normalize(file[1] ?? "") === project && file[2] === WHEEL.filename) {
      send(res, 200, "application/octet-stream", WHEEL.content);
      return 200;
    }
    return reply(res, 404, "not found");
  }

  async function upload(
    req: IncomingMessage,
    res: ServerResponse,
    where: { domain: string; repository: string },
  ): Promise<number> {
    const fields = parseMultipart(await readBody(req), req.headers["content-type"] ?? "");
    const text = (name: string) => fields.get(name)?.data.toString("utf8") ?? "";
    const content = fields.get("content");
    if (text(":action") !== "file_upload" || content?.filename === undefined) {
      return reply(res, 400, "expected a legacy-API file_upload with a content file");
    }
    const sent = text("sha256_digest");
    uploads.push({
      domain: where.domain,
      repository: where.repository,
      name: text("name"),
      version: text("version"),
      filename: content.filename,
      digestMatches: sent !== "" && sent === digest("sha256", content.data),
      size: content.data.length,
    });
    return reply(res, 200, "OK");
  }

  function maven(res: ServerResponse, method: string, rest: string): number {
    if (method !== "GET" && method !== "HEAD") return reply(res, 405, "method not allowed");
    const file = MAVEN.get(rest);
    if (file === undefined) return reply(res, 404, "not found");
    const type = rest.endsWith(".pom")
      ? "text/xml"
      : rest.endsWith(".jar")
        ? "application/java-archive"
        : "text/plain";
    send(res, 200, type, file);
    return 200;
  }

  function reply(res: ServerResponse, status: number, message: string, extra = {}): number {
    send(res, status, "text/plain", `${message}\n`, extra);
    return status;
  }

  const handler: RawHandler = async (req, res) => {
    const method = req.method ?? "GET";
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    const match = ENDPOINT_PATH.exec(rawPath);
    const record: RegistryRequest = {
      format: "unknown",
      method,
      path: rawPath,
      credential: "none",
      status: 0,
      userAgent: String(req.headers["user-agent"] ?? ""),
    };
    requests.push(record);
    if (!match) {
      record.status = reply(res, 404, "not a CodeArtifact repository path");
      return;
    }
    const [, domain = "", owner = "", format = "", repository = "", rest = ""] = match;
    record.path = decodeURIComponent(rest);
    if (format !== "npm" && format !== "pypi" && format !== "maven") {
      record.status = reply(res, 404, `no ${format} registry in this world`);
      return;
    }
    record.format = format;
    record.credential = credentialOf(req, domain, owner);
    // npm clients authenticate with the token as a bearer token; pip, twine and Maven with basic auth.
    const wanted: Credential = format === "npm" ? "bearer" : "basic";
    if (record.credential !== wanted) {
      if (method === "POST") await readBody(req);
      record.status = reply(res, 401, "Unauthorized: a CodeArtifact token for this domain is required", {
        "www-authenticate": format === "npm" ? 'Bearer realm="codeartifact"' : 'Basic realm="codeartifact"',
      });
      return;
    }
    const endpoint = `${codeartifact.registryBase}${domain}-${owner}/${format}/${repository}/`;
    if (format === "npm") record.status = npm(res, endpoint, method, rest);
    else if (format === "pypi") record.status = await pypi(req, res, { domain, repository }, method, rest);
    else record.status = maven(res, method, rest);
  };

  codeartifact.serveRegistry(handler);
  return {
    requests,
    uploads,
    revoke(token) {
      revoked.add(token);
    },
    clear() {
      requests.length = 0;
      uploads.length = 0;
    },
    stop() {
      codeartifact.serveRegistry(undefined);
    },
  };
}
