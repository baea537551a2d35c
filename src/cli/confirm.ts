/**
 * The human's side of approvals: a question on the terminal, answered by typing. Refuses to run
 * without a terminal on stdin, so a model driving a pipe cannot approve its own sends.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.ts';

export async function confirmOnTerminal(question: string, accepted: readonly string[]): Promise<string | null> {
  if (!process.stdin.isTTY) {
    throw new UsageError('approve needs an interactive terminal: run it yourself in a terminal (it cannot be answered through a pipe or by the agent)', 'NOT_A_TERMINAL');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(question)).trim().toLowerCase();
    return accepted.includes(answer) ? answer : null;
  } finally {
    rl.close();
  }
}
