// The program's entry (dist/index.js, CommonJS): the bundle beside it, with its code cache.
import { readCodeCache, runBundle } from "./bundle.js";

runBundle(__dirname, readCodeCache(__dirname));
