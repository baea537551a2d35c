import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAll, ENTRIES } from '../scripts/build.ts';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'sendgate-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('committed bundles', () => {
  it('are exactly what the sources build to (run `npm run build` and commit when this fails)', async () => {
    const written = await buildAll(out);
    expect(written.length).toBe(Object.values(ENTRIES).flatMap((entry) => entry.outputs).length);
    const stale = written.filter((file) => {
      let committed: string;
      try {
        committed = readFileSync(join(root, file), 'utf8');
      } catch {
        return true;
      }
      return committed !== readFileSync(join(out, file), 'utf8');
    });
    expect(stale, `stale bundles: ${stale.join(', ')} — run npm run build`).toEqual([]);
  }, 120_000);
});
