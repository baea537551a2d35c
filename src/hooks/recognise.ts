/**
 * Recognises a sendgate sender invocation in a parsed Bash command: `node <dir>/send.mjs ...`,
 * `node <dir>/xmpp-send.mjs ...`, a bundle run directly, or the sources through tsx. Light: no
 * imports beyond the shell reader.
 */
import { basename, type ParsedCommandLine, type SimpleCommand } from '../egress/shell.ts';

export interface SendgateInvocation {
  skill: 'send' | 'xmpp_send';
  command: SimpleCommand;
  /** Index in argv of the script path. */
  scriptIndex: number;
}

const SCRIPTS: Record<string, SendgateInvocation['skill']> = {
  'send.mjs': 'send',
  'send.ts': 'send',
  'xmpp-send.mjs': 'xmpp_send',
  'xmpp-send.ts': 'xmpp_send',
};
const RUNNERS = new Set(['node', 'nodejs', 'tsx', 'bun', 'deno']);

export function findInvocations(parsed: ParsedCommandLine): SendgateInvocation[] {
  const found: SendgateInvocation[] = [];
  for (const command of parsed.commands) {
    const invocation = invocationOf(command);
    if (invocation) found.push(invocation);
  }
  return found;
}

export function invocationOf(command: SimpleCommand): SendgateInvocation | null {
  const argv = command.argv;
  if (argv.length === 0) return null;
  const first = basename(argv[0]!);
  if (SCRIPTS[first] && first.endsWith('.mjs')) return { skill: SCRIPTS[first]!, command, scriptIndex: 0 };
  let i = 0;
  if (first === 'npx' || first === 'pnpm' || first === 'yarn') i = 1;
  if (!RUNNERS.has(basename(argv[i] ?? ''))) return null;
  // node [node options] script: the first word that is not an option.
  for (let k = i + 1; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '--') continue;
    if (arg.startsWith('-')) {
      if (/^--(import|require|loader|experimental-loader|env-file|conditions|title)$/.test(arg) || arg === '-r') k++;
      continue;
    }
    if (arg === 'run' && basename(argv[i]!) === 'deno') continue;
    const name = basename(arg);
    return SCRIPTS[name] ? { skill: SCRIPTS[name]!, command, scriptIndex: k } : null;
  }
  return null;
}
