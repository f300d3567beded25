// Preloaded with `node --import` into a process whose peak memory a benchmark wants: at exit it writes the
// process's peak resident set size (kB, from getrusage) to the file named by NETC_BENCH_RSS_FILE.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  const file = process.env.NETC_BENCH_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
