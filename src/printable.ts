/**
 * Untrusted text (answers, messages, claims) made safe to print: every control character (C0,
 * DEL, C1, and the Unicode line and paragraph separators) is shown escaped, so that remote data
 * can never start a new log line, forge a `✔`/`✖` line or colour the terminal.
 */

/** C0, DEL, C1, U+2028 and U+2029: what terminals and log viewers act on instead of showing. */
export const isControlCode = (code: number): boolean =>
  code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;

const NAMED: Record<number, string> = { 10: "\\n", 13: "\\r", 9: "\\t" };

const escapeCode = (code: number): string =>
  NAMED[code] ??
  (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);

/** The text on one line, its control characters shown as `\n`, `\x1b`, `\u2028`, … */
export function escapeControl(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControlCode(code)) continue;
    out += text.slice(from, i) + escapeCode(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Where the first control character is, or -1. */
export function firstControl(text: string): number {
  for (let i = 0; i < text.length; i++) if (isControlCode(text.charCodeAt(i))) return i;
  return -1;
}

export const hasControl = (text: string): boolean => firstControl(text) >= 0;

/**
 * JSON for a terminal: JSON.stringify escapes C0 characters but leaves DEL, C1 and U+2028/9 raw;
 * those become `\u` escapes too, which any JSON reader reads back as the same string.
 */
export function printableJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  let out = "";
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (!isControlCode(code) || code === 0x0a) continue;
    out += `${json.slice(from, i)}\\u${code.toString(16).padStart(4, "0")}`;
    from = i + 1;
  }
  return from === 0 ? json : out + json.slice(from);
}
