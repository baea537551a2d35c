/**
 * Process plumbing for the hook entry points: read stdin (bounded), decide, print, exit.
 *
 * The entry bundle holds only the fast path (light.ts); the core (policy, guards, DNS, secrets,
 * state, audit) is a separate file beside it, `pre-tool-use-core.mjs`, imported only when needed,
 * so a benign command starts almost as fast as `node -e 0`.
 *
 * PreToolUse fails closed: malformed input, a missing core file, an unreadable policy, any
 * exception or a hang ends in exit 2 with the reason on stderr, which Claude Code treats as a
 * block and shows the model (every other non-zero exit would let the tool run).
 */
import { readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { postToolUseRelevant, quickPreToolUse } from './light.ts';
import { parseHookInput, preToolUseOutput, type PreToolUseDecision } from './types.ts';

type Core = typeof import('./core.ts');

const MAX_STDIN = 16 * 1024 * 1024;
const WATCHDOG_MS = 25_000;

/**
 * The core: `pre-tool-use-core.mjs` beside the entry when bundled (the entry is CommonJS,
 * `pre-tool-use.cjs`, so a benign call never starts the ESM loader), else the TypeScript source.
 */
export async function loadCore(): Promise<Core> {
  let specifier: string;
  if (typeof __filename === 'string' && /\.c?js$/.test(__filename)) {
    specifier = pathToFileURL(join(dirname(__filename), 'pre-tool-use-core.mjs')).href;
  } else {
    const here = import.meta.url;
    specifier = here.endsWith('.ts') ? new URL('./core.ts', here).href : new URL('./pre-tool-use-core.mjs', here).href;
  }
  return (await import(specifier)) as Core;
}

/** Reads all of stdin synchronously (faster to start than a stream; the input is one small JSON). */
export function readStdin(fd = 0): string {
  const chunks: Buffer[] = [];
  let size = 0;
  const buffer = Buffer.allocUnsafe(65_536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe with nothing yet
      if (code === 'EOF') break;
      throw error;
    }
    if (n === 0) break;
    size += n;
    if (size > MAX_STDIN) throw new Error(`the hook input is larger than ${MAX_STDIN} bytes`);
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

async function block(message: string): Promise<never> {
  await write(process.stderr, `sendgate PreToolUse hook: ${message.replace(/\s+/g, ' ').slice(0, 800)} — blocking this tool call (fail closed).\n`);
  process.exit(2);
}

export async function runPreToolUseHook(): Promise<never> {
  const watchdog = setTimeout(() => void block(`no decision within ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS);
  try {
    const input = parseHookInput(readStdin(), process.cwd());
    const quick = quickPreToolUse(input, process.env);
    let decision: PreToolUseDecision = quick.kind === 'deny' ? { decision: 'deny', reason: quick.reason } : null;
    if (quick.kind === 'full') decision = await (await loadCore()).decidePreToolUse(input, { env: process.env });
    clearTimeout(watchdog);
    if (decision) await write(process.stdout, preToolUseOutput(decision));
    process.exit(0);
  } catch (error) {
    clearTimeout(watchdog);
    const code = (error as { code?: string } | null)?.code;
    return block(error instanceof Error ? `${code ? `${code}: ` : ''}${error.message}` : String(error));
  }
}

export async function runPostToolUseHook(): Promise<never> {
  const watchdog = setTimeout(() => {
    process.stderr.write('sendgate PostToolUse hook: timed out recording the outcome\n');
    process.exit(1);
  }, WATCHDOG_MS);
  try {
    const input = parseHookInput(readStdin(), process.cwd());
    if (postToolUseRelevant(input)) await (await loadCore()).recordPostToolUse(input, { env: process.env });
    clearTimeout(watchdog);
    process.exit(0);
  } catch (error) {
    clearTimeout(watchdog);
    // The tool already ran; tell the user the audit record is missing (exit 1: shown, not blocking).
    await write(process.stderr, `sendgate PostToolUse hook: could not record the outcome in the audit log: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
