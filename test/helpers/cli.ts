import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing what it prints. */
export async function runCli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => (stdout += text.endsWith('\n') ? text : text + '\n'),
    err: (text) => (stderr += text.endsWith('\n') ? text : text + '\n'),
  });
  return { code, stdout, stderr };
}
