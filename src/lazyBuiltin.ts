import { createRequire } from "node:module";

const requireBuiltin = createRequire(import.meta.url);

/**
 * A Node builtin loaded on first use instead of at start-up, for the heavy ones a run may not need
 * or can load while a request is on the wire (measured on Node 24: node:https with TLS about 7 ms,
 * node:crypto about 8 ms). Use `import type` for its types.
 */
export const lazyBuiltin =
  <T>(name: `node:${string}`): (() => T) =>
  () =>
    requireBuiltin(name) as T;
