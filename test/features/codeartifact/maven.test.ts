import { describe, expect, it } from "vitest";
import { mavenLogin, renderMavenSettings } from "../../../src/features/codeartifact/maven.ts";
import { MAVEN } from "../../support/codeartifact.ts";

/** Maven and Gradle (src/features/codeartifact/maven.ts): settings.xml and the repository URL. */

describe("maven, gradle", () => {
  it("writes a settings file whose server, repository and plugin repository share one id, with no secret in it", () => {
    expect(renderMavenSettings(MAVEN)).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">
  <servers>
    <server>
      <id>codeartifact</id>
      <username>aws</username>
      <password>\${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles>
    <profile>
      <id>codeartifact</id>
      <repositories>
        <repository>
          <id>codeartifact</id>
          <url>${MAVEN}</url>
        </repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository>
          <id>codeartifact</id>
          <url>${MAVEN}</url>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>codeartifact</activeProfile>
  </activeProfiles>
</settings>
`);
  });

  it("maven gets the file, gradle the URL only", () => {
    const both = mavenLogin({
      endpoint: MAVEN,
      tools: ["maven", "gradle"],
      settingsDisplay: "o/maven-settings.xml",
    });
    expect(both.env).toEqual([{ name: "CODEARTIFACT_MAVEN_URL", value: MAVEN }]);
    expect(both.files.map((f) => f.name)).toEqual(["maven-settings.xml"]);
    expect(both.endpoints).toEqual({ maven: MAVEN, gradle: MAVEN });
    const gradle = mavenLogin({ endpoint: MAVEN, tools: ["gradle"], settingsDisplay: "x" });
    expect(gradle.files).toEqual([]);
    expect(gradle.env).toEqual([{ name: "CODEARTIFACT_MAVEN_URL", value: MAVEN }]);
  });
});
