// The bundle's entry (dist/bundle.js, started by the launcher: src/launch/).
import { main } from "./cli.js";

void main(process.argv.slice(2), process.env, process.cwd()).then((status) => {
  // Ends once the output is out, rather than when the event loop runs dry: by then V8 may have
  // scheduled housekeeping that a natural exit waits for (a young-generation GC near the end of a
  // run: about 4 ms, measured). The write's callback fires after every earlier write to stdout has
  // reached the OS, so nothing printed is cut, on platforms where pipes are asynchronous too.
  process.stdout.write("", () => process.exit(status));
});
