import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, renderSchemas } from '../scripts/gen-schemas.ts';
import { defaultPolicy, loadPolicy, parsePolicyText } from '../src/config/load.ts';

describe('generated JSON Schemas', () => {
  const rendered = renderSchemas();

  it.each(Object.keys(rendered))('%s is up to date (run `npm run schemas` after changing a zod schema)', (relative) => {
    let committed: string;
    try {
      committed = readFileSync(join(ROOT, relative), 'utf8');
    } catch {
      throw new Error(`${relative} is missing: run npm run schemas`);
    }
    if (committed !== rendered[relative]) throw new Error(`${relative} is stale: run npm run schemas`);
  });

  it('the policy schema is strict and requires version 1', () => {
    const schema = JSON.parse(rendered['schemas/policy.schema.json']!);
    expect(schema.required).toEqual(['version']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.version.const).toBe(1);
    expect(schema.properties.network.additionalProperties).toBe(false);
  });

  it('the output schema lists every constraint code', async () => {
    const { CONSTRAINT_CODES } = await import('../src/contract.ts');
    const schema = JSON.parse(rendered['schemas/output.schema.json']!);
    expect(schema.properties.constraints_applied.items.properties.code.enum).toEqual([...CONSTRAINT_CODES]);
  });
});

describe('schemas/example-policy.yaml', () => {
  const path = join(ROOT, 'schemas', 'example-policy.yaml');
  const text = readFileSync(path, 'utf8');

  it('loads with the real loader', () => {
    expect(loadPolicy({ flag: path, env: {} }).source).toBe(path);
  });

  it('sets every key to its default', () => {
    expect(parsePolicyText(text, path)).toEqual(defaultPolicy());
  });

  it('spells out every key the schema has (so none is undocumented)', () => {
    const written = parse(text) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (defaults: Record<string, unknown>, example: unknown, prefix: string) => {
      for (const [key, value] of Object.entries(defaults)) {
        const here = example && typeof example === 'object' ? (example as Record<string, unknown>)[key] : undefined;
        if (here === undefined) missing.push(`${prefix}${key}`);
        else if (value && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, here, `${prefix}${key}.`);
      }
    };
    walk(defaultPolicy() as unknown as Record<string, unknown>, written, '');
    expect(missing).toEqual([]);
  });

  it('explains every key with a comment', () => {
    const uncommented = text
      .split('\n')
      .filter((line) => /^\s*[a-z_]+:\s*\S/.test(line) && !line.includes('#'))
      .filter((line) => !/max_messages_per|^version/.test(line.trim()));
    expect(uncommented).toEqual([]);
  });
});
