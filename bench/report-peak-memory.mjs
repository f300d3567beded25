// Preloaded with `node --import` into a process whose peak memory a benchmark wants: at exit it writes the
// process's peak resident set size (kB) to the file named by NETC_BENCH_RSS_FILE. On Linux that is VmHWM from
// /proc/self/status: getrusage's maxRSS survives fork and exec, so a child spawned by a benchmark that holds a large
// buffer would report the benchmark's own peak; VmHWM belongs to the address space exec made. With
// NETC_BENCH_CPU_FILE it also writes the CPU time (user + system, ms) of all the process's threads.
import { readFileSync, writeFileSync } from "node:fs";

function peakKb() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux: getrusage below
  }
  return process.resourceUsage().maxRSS;
}

process.on("exit", () => {
  const file = process.env.NETC_BENCH_RSS_FILE;
  if (file) writeFileSync(file, String(peakKb()));
  const cpuFile = process.env.NETC_BENCH_CPU_FILE;
  if (cpuFile) {
    const { user, system } = process.cpuUsage();
    writeFileSync(cpuFile, String((user + system) / 1000));
  }
});
