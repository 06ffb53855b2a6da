import type { CodeArtifactTool } from "../../config/codeartifact.js";
import type { EnvEntry } from "../../outputs/shell.js";
import { CODEARTIFACT_USER, escapeXml, type ToolLogin } from "./login.js";

/**
 * Maven and Gradle. Maven matches credentials to repositories by id, so the settings file has a
 * `<server>` and repositories with the same id, `codeartifact`: an active profile adds the
 * repository (for dependencies, plugins and build extensions) next to Maven Central rather than
 * in its place. The password is `${env.CODEARTIFACT_AUTH_TOKEN}`, which Maven reads from the
 * environment when it runs: the file itself holds no secret. Gradle has no such file: a build
 * script reads CODEARTIFACT_MAVEN_URL and CODEARTIFACT_AUTH_TOKEN.
 */
export const MAVEN_ENV = { url: "CODEARTIFACT_MAVEN_URL" } as const;
export const MAVEN_ID = "codeartifact";

export interface MavenLogin {
  /** The maven repository endpoint, ending with `/`. */
  endpoint: string;
  tools: readonly CodeArtifactTool[];
  /** OUTPUT_DIR/maven-settings.xml as the user wrote OUTPUT_DIR, for messages. */
  settingsDisplay: string;
}

export function renderMavenSettings(endpoint: string): string {
  const url = escapeXml(endpoint);
  return `<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">
  <servers>
    <server>
      <id>${MAVEN_ID}</id>
      <username>${CODEARTIFACT_USER}</username>
      <password>\${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles>
    <profile>
      <id>${MAVEN_ID}</id>
      <repositories>
        <repository>
          <id>${MAVEN_ID}</id>
          <url>${url}</url>
        </repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository>
          <id>${MAVEN_ID}</id>
          <url>${url}</url>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>${MAVEN_ID}</activeProfile>
  </activeProfiles>
</settings>
`;
}

export function mavenLogin(login: MavenLogin): ToolLogin {
  const env: EnvEntry[] = [{ name: MAVEN_ENV.url, value: login.endpoint }];
  const result: ToolLogin = { env, files: [], endpoints: {}, lines: [] };
  if (login.tools.includes("maven")) {
    result.files.push({ name: "maven-settings.xml", content: renderMavenSettings(login.endpoint) });
    result.endpoints.maven = login.endpoint;
    result.lines.push(
      `CodeArtifact maven: repository ${login.endpoint} with id ${MAVEN_ID}: mvn -s ${login.settingsDisplay}.`,
    );
  }
  if (login.tools.includes("gradle")) {
    result.endpoints.gradle = login.endpoint;
    result.lines.push(
      `CodeArtifact gradle: a maven repository at CODEARTIFACT_MAVEN_URL (${login.endpoint}), user aws, password CODEARTIFACT_AUTH_TOKEN.`,
    );
  }
  return result;
}
