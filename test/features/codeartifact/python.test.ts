import { describe, expect, it } from "vitest";
import { indexUrlWithToken, pythonLogin } from "../../../src/features/codeartifact/python.ts";
import { HOST, PYPI, TOKEN } from "../../support/codeartifact.ts";

/** Pip, uv, poetry and twine (src/features/codeartifact/python.ts): the index URLs and variables. */

describe("pip, uv, poetry, twine", () => {
  it("puts aws:<token> into the index URL, percent-encoded", () => {
    const url = indexUrlWithToken(PYPI, TOKEN);
    expect(url).toBe(`https://aws:${encodeURIComponent(TOKEN)}@${HOST}/pypi/py-store/simple/`);
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe(TOKEN);
    expect(parsed.username).toBe("aws");
  });

  it("gives each tool exactly what it reads", () => {
    const login = pythonLogin({ endpoint: PYPI, token: TOKEN, tools: ["pip", "uv", "poetry", "twine"] });
    const withToken = indexUrlWithToken(PYPI, TOKEN);
    expect(login.env).toEqual([
      { name: "CODEARTIFACT_PYPI_URL", value: `${PYPI}simple/` },
      { name: "PIP_INDEX_URL", value: withToken },
      { name: "UV_DEFAULT_INDEX", value: withToken },
      { name: "POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME", value: "aws" },
      { name: "POETRY_HTTP_BASIC_CODEARTIFACT_PASSWORD", value: TOKEN },
      { name: "POETRY_REPOSITORIES_CODEARTIFACT_URL", value: PYPI },
      { name: "TWINE_REPOSITORY_URL", value: PYPI },
      { name: "TWINE_USERNAME", value: "aws" },
      { name: "TWINE_PASSWORD", value: TOKEN },
    ]);
    expect(login.files).toEqual([]);
    expect(login.endpoints).toEqual({
      pip: `${PYPI}simple/`,
      uv: `${PYPI}simple/`,
      poetry: `${PYPI}simple/`,
      twine: PYPI,
    });
    for (const line of login.lines) expect(line).not.toContain("aws:");
  });

  it("only what was asked for", () => {
    expect(pythonLogin({ endpoint: PYPI, token: TOKEN, tools: ["uv"] }).env.map((e) => e.name)).toEqual([
      "CODEARTIFACT_PYPI_URL",
      "UV_DEFAULT_INDEX",
    ]);
  });
});
