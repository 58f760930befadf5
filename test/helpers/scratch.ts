import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * A fresh workspace folder for each test, `test-artifacts/<name>/<random>/` with an empty
 * `asyncapi/`, made the working directory (the CLI reads its config and specs from there)
 * and removed afterwards. `use` receives the folder before each test.
 */
export function useScratchWorkspace(name: string, use: (dir: string) => void): void {
  let dir = '';
  let cwd = '';
  beforeEach(() => {
    cwd = process.cwd();
    dir = path.resolve('test-artifacts', name, String(Math.random()).slice(2));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.join(dir, 'asyncapi'), { recursive: true });
    process.chdir(dir);
    use(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
}
