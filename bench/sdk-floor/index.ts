import module from "node:module";

// As the pipe's entry does: the compile cache first, then the rest.
(module as unknown as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./run.js");
