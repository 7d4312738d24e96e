import { execFile } from 'node:child_process';

export interface RunResult {
  /** The exit code; 127 when the program was not found. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (systemctl, WinSW, id) without a shell. Tests replace it with a recorder. */
export interface CommandRunner {
  run(file: string, args: string[]): Promise<RunResult>;
}

/** The real runner: never throws for a non-zero exit or a missing program, it reports them. */
export const execRunner: CommandRunner = {
  run: (file, args) =>
    new Promise((resolve) => {
      execFile(file, args, { windowsHide: true, timeout: 60_000 }, (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (failure?.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${file}: not found` });
        const code = failure ? (typeof failure.code === 'number' ? failure.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (failure && code === 1 ? failure.message : '') });
      });
    }),
};
