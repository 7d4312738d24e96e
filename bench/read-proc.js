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

/** CPU time (user + system) a process has used so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
export function readCpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
