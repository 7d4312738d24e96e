import fs from 'node:fs';

/** Resident set size of a process in MB (VmRSS from /proc, Linux), or NaN once it is gone. */
export function readRssMb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the RSS of `pids` every `intervalMs` until `stop()`, which returns the peak per pid. */
export function sampleRss(pids, intervalMs = 200) {
  const peaks = new Map(pids.map((pid) => [pid, readRssMb(pid)]));
  const timer = setInterval(() => {
    for (const pid of pids) peaks.set(pid, Math.max(peaks.get(pid), readRssMb(pid)));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      for (const pid of pids) peaks.set(pid, Math.max(peaks.get(pid), readRssMb(pid)));
      return peaks;
    },
  };
}

/**
 * CPU time a process's threads have run so far, in ms: the scheduler's own nanosecond count
 * (the first field of /proc/PID/task/TID/schedstat, summed over threads). Tick-sampled utime/stime would charge a whole 10 ms tick to a
 * process woken by a timer at the tick, and overstate the cost of a lightly loaded server.
 * Threads that ended in between are missed (Node's threads live as long as the process).
 */
export function readCpuMs(pid) {
  try {
    let ns = 0;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}
