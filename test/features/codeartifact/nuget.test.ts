import { describe, expect, it } from "vitest";
import { nugetLogin } from "../../../src/features/codeartifact/nuget.ts";
import { NUGET, TOKEN } from "../../support/codeartifact.ts";

/** NuGet (src/features/codeartifact/nuget.ts): nuget.config with the v3 source. */

describe("nuget", () => {
  it("writes the V3 index as a source with the token as ClearTextPassword, XML-escaped", () => {
    const login = nugetLogin({ endpoint: NUGET, token: TOKEN, configDisplay: ".aws-oidc/nuget.config" });
    expect(login.files).toEqual([
      {
        name: "nuget.config",
        content: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="codeartifact" value="${NUGET}v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceCredentials>
    <codeartifact>
      <add key="Username" value="aws" />
      <add key="ClearTextPassword" value="eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc/def+ghi=&amp;&lt;&quot;&apos;&gt;" />
    </codeartifact>
  </packageSourceCredentials>
</configuration>
`,
      },
    ]);
    expect(login.env).toEqual([{ name: "CODEARTIFACT_NUGET_URL", value: `${NUGET}v3/index.json` }]);
    expect(login.endpoints).toEqual({ nuget: `${NUGET}v3/index.json` });
  });
});
