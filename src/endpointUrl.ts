/**
 * The one rule for every AWS endpoint, whatever its source (a variable, a shared config file, an
 * answer): https, or plain http to this machine only, since the step's token and signed requests
 * would otherwise cross the network unencrypted. Pure: shared by config and the AWS layer.
 */
import { isLoopbackHost } from "./answers.js";

/** What is wrong with an endpoint URL, as the end of a sentence naming its source; undefined when it is fine. */
export function endpointUrlProblem(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return "must be a URL without blanks or control characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://sts.us-east-1.amazonaws.com";
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return `uses plain http:// to ${url.hostname}: credentials and the token would travel unencrypted. Use https:// (plain http is allowed only to a loopback address)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an https:// URL";
  return undefined;
}
