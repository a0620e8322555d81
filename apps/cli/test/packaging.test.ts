import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKS = mkdtempSync(join(tmpdir(), 'shortv-packs-'));

afterAll(() => rmSync(PACKS, { recursive: true, force: true }));

interface Manifest {
  name: string;
  private?: boolean;
  files?: string[];
  scripts?: Record<string, string>;
  exports?: Record<string, unknown>;
}

/** Every path an `exports` map points at, under any condition. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

function publishedPackages(): { dir: string; manifest: Manifest }[] {
  return readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name))
    .flatMap((dir) => {
      try {
        return [{ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }];
      } catch {
        return [];
      }
    })
    .filter(({ manifest }) => manifest.private !== true);
}

/** `pnpm pack` (prepack included) and the paths inside the tarball, without the `package/` prefix. */
function pack(dir: string): Set<string> {
  const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', PACKS], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_verify_deps_before_run: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const report = JSON.parse(out.slice(out.indexOf('{'))) as { filename: string; files: { path: string }[] };
  return new Set(report.files.map((f) => normalize(f.path)));
}

describe('published package tarballs', () => {
  const packages = publishedPackages();

  it('every published package builds before packing', () => {
    expect(packages.length).toBeGreaterThanOrEqual(10);
    for (const { manifest } of packages) {
      expect({ name: manifest.name, prepack: manifest.scripts?.prepack }).toEqual({
        name: manifest.name,
        prepack: 'pnpm run build',
      });
    }
  });

  for (const { dir, manifest } of packages) {
    it(`${manifest.name}: every export target and source-map source is in the tarball`, () => {
      const files = pack(dir);
      const missing = exportTargets(manifest.exports).filter((target) => !files.has(normalize(target)));
      expect(missing).toEqual([]);
      const maps = [...files].filter((f) => f.endsWith('.js.map'));
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] };
        for (const source of sources)
          expect(files.has(normalize(join(dirname(map), source))), `${map} -> ${source}`).toBe(true);
      }
    }, 120_000);
  }
});
