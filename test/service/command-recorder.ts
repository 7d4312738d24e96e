import type { CommandRunner, RunResult } from '../../src/service/command-runner.js';

/** A CommandRunner that records each call as one line ("systemctl enable trade-relay") and answers from `answer`. */
export function commandRecorder(answer: (line: string) => Partial<RunResult> | undefined = () => undefined): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const runner: CommandRunner = {
    run: async (file, args) => {
      const line = [file, ...args].join(' ');
      calls.push(line);
      return { code: 0, stdout: '', stderr: '', ...answer(line) };
    },
  };
  return { runner, calls };
}
