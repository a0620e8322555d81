import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const srcDir = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

// The package must run unchanged in browsers; only src/node/ (the `./node` subpath) may use Node.
const FORBIDDEN = [
  /from\s+['"](node:|fs|path|os|crypto|url)['"/]/,
  /\bimport\(\s*['"]node:/,
  /\bprocess\./,
  /\bBuffer\./,
  /\b(window|document|navigator)\./,
  /from\s+['"][^.'"][^'"]*['"]/, // any bare package import: the package has no runtime dependencies
];

describe('portability', () => {
  const files = sourceFiles(srcDir).filter((f) => !relative(srcDir, f).startsWith('node'));

  it('finds the platform-neutral sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('keeps Node, DOM and third-party imports out of everything but src/node', () => {
    const offences: string[] = [];
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.trimStart().startsWith('//') || line.trimStart().startsWith('*')) return;
          for (const pattern of FORBIDDEN) {
            if (pattern.test(line)) offences.push(`${relative(srcDir, file)}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    expect(offences).toEqual([]);
  });

  it('declares no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(srcDir, '..', 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
    expect(pkg.exports['./node']['@shortv/source']).toBe('./src/node/index.ts');
  });
});
