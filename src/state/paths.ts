import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** SENDGATE_HOME, else ${XDG_STATE_HOME:-~/.local/state}/sendgate. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SENDGATE_HOME) return resolve(env.SENDGATE_HOME);
  const xdg = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return resolve(xdg, 'sendgate');
}
