import type { CodeArtifactTool } from "../../config/codeartifact.js";
import type { OutputFile } from "../../outputs/files.js";
import type { EnvEntry } from "../../outputs/shell.js";

/** The repository formats CodeArtifact serves, and the tools each one is for. */
export type Format = "npm" | "pypi" | "maven" | "nuget";

export const FORMAT_OF: Record<CodeArtifactTool, Format> = {
  npm: "npm",
  pnpm: "npm",
  yarn: "npm",
  pip: "pypi",
  uv: "pypi",
  poetry: "pypi",
  twine: "pypi",
  maven: "maven",
  gradle: "maven",
  nuget: "nuget",
};

/** The formats the tools need, each once, in the order of CODEARTIFACT_TOOLS. */
export const formatsFor = (tools: readonly CodeArtifactTool[]): Format[] => [
  ...new Set(tools.map((tool) => FORMAT_OF[tool])),
];

/** What one tool family turns a login into. Pure: no I/O. */
export interface ToolLogin {
  env: EnvEntry[];
  files: OutputFile[];
  /** The URL each tool is pointed at, without credentials: for outputs.json. */
  endpoints: Partial<Record<CodeArtifactTool, string>>;
  /** One log line per tool, never with the token. */
  lines: string[];
}

/** The user name CodeArtifact expects with the token as password (pip, twine, poetry, Maven, NuGet). */
export const CODEARTIFACT_USER = "aws";

/** Repository endpoints end with `/`; every URL here is built on that. */
export const withSlash = (url: string): string => (url.endsWith("/") ? url : `${url}/`);

export const escapeXml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
