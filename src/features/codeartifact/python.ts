import type { CodeArtifactTool } from "../../config/codeartifact.js";
import type { EnvEntry } from "../../outputs/shell.js";
import { CODEARTIFACT_USER, type ToolLogin } from "./login.js";

/**
 * pip, uv, poetry and twine. CodeArtifact's PyPI repositories take HTTP basic auth, user `aws` and
 * the token as password; the simple index (PEP 503) is at `<endpoint>simple/`, uploads (the legacy
 * API twine and poetry speak) go to the endpoint itself.
 * - pip: PIP_INDEX_URL with the credentials in the URL (pip hides the password when it prints it).
 * - uv: UV_DEFAULT_INDEX, the same URL: it replaces PyPI; indexes in pyproject.toml still come first.
 * - poetry: credentials for a repository (and source) named `codeartifact`:
 *   POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME/_PASSWORD; POETRY_REPOSITORIES_CODEARTIFACT_URL for
 *   `poetry publish -r codeartifact`; CODEARTIFACT_PYPI_URL for a `[[tool.poetry.source]]`.
 * - twine: TWINE_REPOSITORY_URL, TWINE_USERNAME, TWINE_PASSWORD.
 */
export const PYTHON_ENV = {
  url: "CODEARTIFACT_PYPI_URL",
  pip: "PIP_INDEX_URL",
  uv: "UV_DEFAULT_INDEX",
  poetryUser: "POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME",
  poetryPassword: "POETRY_HTTP_BASIC_CODEARTIFACT_PASSWORD",
  poetryRepository: "POETRY_REPOSITORIES_CODEARTIFACT_URL",
  twineUrl: "TWINE_REPOSITORY_URL",
  twineUser: "TWINE_USERNAME",
  twinePassword: "TWINE_PASSWORD",
} as const;

export interface PythonLogin {
  /** The pypi repository endpoint, ending with `/`. */
  endpoint: string;
  token: string;
  tools: readonly CodeArtifactTool[];
}

/** `<endpoint>simple/` with `aws:<token>@` in it: what pip and uv take as an index URL. */
export function indexUrlWithToken(endpoint: string, token: string): string {
  const url = new URL(`${endpoint}simple/`);
  url.username = CODEARTIFACT_USER;
  url.password = encodeURIComponent(token);
  return url.toString();
}

export function pythonLogin(login: PythonLogin): ToolLogin {
  const simple = `${login.endpoint}simple/`;
  const withToken = indexUrlWithToken(login.endpoint, login.token);
  const env: EnvEntry[] = [{ name: PYTHON_ENV.url, value: simple }];
  const endpoints: ToolLogin["endpoints"] = {};
  const lines: string[] = [];
  for (const tool of login.tools) {
    switch (tool) {
      case "pip":
        env.push({ name: PYTHON_ENV.pip, value: withToken });
        endpoints.pip = simple;
        lines.push(`CodeArtifact pip: index ${simple} (PIP_INDEX_URL).`);
        break;
      case "uv":
        env.push({ name: PYTHON_ENV.uv, value: withToken });
        endpoints.uv = simple;
        lines.push(`CodeArtifact uv: default index ${simple} (UV_DEFAULT_INDEX).`);
        break;
      case "poetry":
        env.push(
          { name: PYTHON_ENV.poetryUser, value: CODEARTIFACT_USER },
          { name: PYTHON_ENV.poetryPassword, value: login.token },
          { name: PYTHON_ENV.poetryRepository, value: login.endpoint },
        );
        endpoints.poetry = simple;
        lines.push(
          `CodeArtifact poetry: credentials for the source or repository named codeartifact; install from ${simple}, publish with poetry publish -r codeartifact.`,
        );
        break;
      case "twine":
        env.push(
          { name: PYTHON_ENV.twineUrl, value: login.endpoint },
          { name: PYTHON_ENV.twineUser, value: CODEARTIFACT_USER },
          { name: PYTHON_ENV.twinePassword, value: login.token },
        );
        endpoints.twine = login.endpoint;
        lines.push(`CodeArtifact twine: twine upload goes to ${login.endpoint} (TWINE_REPOSITORY_URL).`);
        break;
      default:
        break;
    }
  }
  return { env, files: [], endpoints, lines };
}
