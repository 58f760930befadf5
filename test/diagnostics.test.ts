import { describe, expect, it } from 'vitest';
import { formatDiagnostic, sortDiagnostics } from '../src/diagnostics.js';

describe('formatDiagnostic', () => {
  it('prints file:line:col, severity and code', () => {
    expect(
      formatDiagnostic({
        code: 'YAML_SYNTAX',
        severity: 'error',
        message: 'bad indentation',
        location: { file: 'asyncapi/users.yaml', line: 3, column: 5 },
      }),
    ).toBe('asyncapi/users.yaml:3:5: error YAML_SYNTAX: bad indentation');
  });
  it('sorts by file, line, column', () => {
    const at = (file: string, line: number, column: number) => ({
      code: 'X', severity: 'error' as const, message: '', location: { file, line, column },
    });
    expect(sortDiagnostics([at('b', 1, 1), at('a', 2, 1), at('a', 1, 9)]).map((d) => d.location))
      .toEqual([at('a', 1, 9).location, at('a', 2, 1).location, at('b', 1, 1).location]);
  });
});
