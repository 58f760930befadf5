import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * A fresh workspace folder for each test, `test-artifacts/<name>/<random>/`, made the working
 * directory (the CLI reads its config and specs from there) and removed afterwards: an empty
 * `asyncapi/`, or with `copyRepo` a copy of this repository's contracts, lock and config.
 * `use` receives the folder before each test.
 */
export function useScratchWorkspace(name: string, use: (dir: string) => void, options: { copyRepo?: boolean } = {}): void {
  let dir = '';
  let cwd = '';
  beforeEach(() => {
    cwd = process.cwd();
    dir = path.resolve('test-artifacts', name, String(Math.random()).slice(2));
    rmSync(dir, { recursive: true, force: true });
    if (options.copyRepo) {
      cpSync('asyncapi', path.join(dir, 'asyncapi'), { recursive: true });
      cpSync('registry.lock.json', path.join(dir, 'registry.lock.json'));
      cpSync('event-contracts.config.json', path.join(dir, 'event-contracts.config.json'));
    } else mkdirSync(path.join(dir, 'asyncapi'), { recursive: true });
    process.chdir(dir);
    use(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
}
