/** Node flags that write `<dir>/<name>.cpuprofile` when the process exits; none when `dir` is null. */
export function cpuProfileArgs(dir, name) {
  return dir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
}
