#!/usr/bin/env node
// Generates schemas/*.schema.json from the zod schemas (the zod schemas are the authority).
// `npm run schemas` writes them; test/schemas.test.ts regenerates in memory and fails when they are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { policySchema } from '../src/config/schema.ts';
import { outputSchema } from '../src/contract.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Relative path -> file text, exactly as committed. */
export function renderSchemas(): Record<string, string> {
  const policy = {
    $id: 'https://github.com/sendgate/sendgate/schemas/policy.schema.json',
    title: 'sendgate policy',
    description:
      'The sendgate policy file (YAML). Unknown keys are errors; every key is optional except `version`, and a missing key takes the secure default shown here. See schemas/example-policy.yaml.',
    ...z.toJSONSchema(policySchema, { io: 'input', target: 'draft-2020-12' }),
  };
  const output = {
    $id: 'https://github.com/sendgate/sendgate/schemas/output.schema.json',
    title: 'sendgate output',
    description: 'What send.mjs and xmpp-send.mjs print (YAML by default, JSON with --format json).',
    ...z.toJSONSchema(outputSchema, { io: 'output', target: 'draft-2020-12' }),
  };
  return {
    'schemas/policy.schema.json': `${JSON.stringify(policy, null, 2)}\n`,
    'schemas/output.schema.json': `${JSON.stringify(output, null, 2)}\n`,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [relative, text] of Object.entries(renderSchemas())) {
    const path = join(ROOT, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${relative}`);
  }
}
