import { escapeControl } from "./printable.js";

/**
 * Known secrets removed from text, whatever happened to them on the way: whole or cut (any piece
 * of 16 characters or more), raw, JSON-escaped, percent-encoded or as the log escapes them. Every
 * 16-character window of every form is indexed once; a scan of the text's own windows then finds
 * each hit in constant time, and overlapping hits merge into the whole run they cover. Linear in
 * the text, whatever the number of secrets. The windows are indexed when a text first needs them:
 * texts without a secret, most of them, are cleared by the forms' 8-character blocks alone.
 */

export const REDACTED = "[redacted]";
/** The contract's piece length: no 16 characters of a secret in a row reach the log. */
export const PIECE = 16;
/** Shorter values would blank out ordinary words; every secret the pipe handles is longer. */
const MIN_SECRET = 8;

/** The forms a secret may take in a message: as is, inside JSON, inside a URL, as the log prints it. */
export function encodedForms(secret: string): string[] {
  const forms = new Set([
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    escapeControl(secret),
  ]);
  return [...forms];
}

/** The base64 of `user:password`, as HTTP basic authentication and Docker's `auth` carry it. */
export const basicPair = (user: string, password: string): string =>
  Buffer.from(`${user}:${password}`, "utf8").toString("base64");

/** Every PIECE-long piece of a form holds one of the form's BLOCK-long blocks that start at a multiple of BLOCK. */
const BLOCK = PIECE / 2;

export class SecretScrubber {
  /** Every window of every indexed form, built on the first text that may hold one (see scrub). */
  private readonly windows = new Set<string>();
  /** The blocks at multiples of BLOCK of every indexed form: a text with none of them holds no piece. */
  private readonly blocks = new Set<string>();
  /** Forms shorter than a window: replaced where they appear whole. */
  private readonly short = new Set<string>();
  private readonly known = new Set<string>();
  /** The forms whose pieces are looked for, and how many of them have their windows in `windows`. */
  private readonly indexed: string[] = [];
  private windowed = 0;

  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET || this.known.has(secret)) return;
    this.known.add(secret);
    for (const form of encodedForms(secret)) {
      if (form.length < PIECE) {
        this.short.add(form);
        continue;
      }
      // A piece of a form already indexed (the step token's parts, say) has every window indexed
      // already; one native search spares slicing them all again.
      if (this.indexed.some((known) => known.includes(form))) continue;
      this.indexed.push(form);
      for (let i = 0; i + BLOCK <= form.length; i += BLOCK) this.blocks.add(form.slice(i, i + BLOCK));
    }
  }

  /** A `user:password` pair the pipe builds: the password, the pair and its base64. */
  addBasicPair(user: string, password: string): void {
    this.add(password);
    this.add(`${user}:${password}`);
    this.add(basicPair(user, password));
  }

  /**
   * Most texts hold no secret: a scan for the forms' aligned blocks (an eighth of their windows
   * to index) clears them. Only a text with a block in it pays for the windows, indexed once.
   */
  scrub(text: string): string {
    let out = this.mayHoldPiece(text) ? this.removeRuns(text) : text;
    // Longest first, so a short secret inside another is replaced whole.
    for (const secret of [...this.short].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  private mayHoldPiece(text: string): boolean {
    if (this.blocks.size === 0 || text.length < PIECE) return false;
    for (let i = 0; i + BLOCK <= text.length; i++) if (this.blocks.has(text.slice(i, i + BLOCK))) return true;
    return false;
  }

  private removeRuns(text: string): string {
    for (; this.windowed < this.indexed.length; this.windowed++) {
      const form = this.indexed[this.windowed] ?? "";
      for (let i = 0; i + PIECE <= form.length; i++) this.windows.add(form.slice(i, i + PIECE));
    }
    let out = "";
    let copied = 0;
    let runStart = -1;
    let runEnd = -1;
    for (let i = 0; i + PIECE <= text.length; i++) {
      if (!this.windows.has(text.slice(i, i + PIECE))) continue;
      if (i <= runEnd) {
        runEnd = i + PIECE;
        continue;
      }
      if (runStart >= 0) {
        out += `${text.slice(copied, runStart)}${REDACTED}`;
        copied = runEnd;
      }
      runStart = i;
      runEnd = i + PIECE;
    }
    if (runStart < 0) return text;
    return `${out}${text.slice(copied, runStart)}${REDACTED}${text.slice(runEnd)}`;
  }
}

/** Characters that make up tokens, keys and their encodings: a cut inside a run of them may cut a secret. */
const TOKEN_CHAR = /[A-Za-z0-9+/=_%\\.~-]/;

/**
 * At most `max` characters, never ending inside a run of token characters: a secret is either
 * shown whole (and then removed by the log's scrub) or not at all, never as a leading piece the
 * scrub could no longer recognise.
 */
export function boundedText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max;
  if (TOKEN_CHAR.test(text[cut] ?? "")) {
    while (cut > 0 && TOKEN_CHAR.test(text[cut - 1] ?? "")) cut--;
  }
  return `${text.slice(0, cut).trimEnd()}…`;
}

/** A URL as the log may show it: without its `user:password@` part. */
export function withoutUserinfo(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}
