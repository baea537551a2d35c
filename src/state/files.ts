/**
 * JSON state files: atomic writes (temp file, fsync, rename) and strict reads. A file that does not
 * parse is never silently reset: the send is blocked and the user is told which file to inspect.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { BlockedError } from '../errors.ts';

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new BlockedError('STATE_UNAVAILABLE', `cannot create the state directory ${path} (${(error as NodeJS.ErrnoException).code}); set SENDGATE_HOME to a writable directory`, { cause: error });
  }
}

export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  ensureDir(dirname(path));
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = openSync(temp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    throw new BlockedError('STATE_UNAVAILABLE', `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}

export function readJsonFile<S extends z.ZodType>(path: string, schema: S, empty: () => z.infer<S>): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw new BlockedError('STATE_UNAVAILABLE', `cannot read ${path} (${(error as NodeJS.ErrnoException).code})`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BlockedError('STATE_CORRUPT', `the state file ${path} is corrupt (not JSON); inspect or move it aside — sendgate will not reset it silently`);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new BlockedError('STATE_CORRUPT', `the state file ${path} is corrupt (${issue.path.join('.') || 'top level'}: ${issue.message}); inspect or move it aside`);
  }
  return result.data;
}

export function writeJsonFile(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 1)}\n`);
}
