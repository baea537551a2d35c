/**
 * A cross-process lock: an O_EXCL lock file holding the owner's pid. Many processes (parallel tool
 * calls, subagents, hooks) share the state directory, so every read-modify-write runs under it.
 * A lock whose owner died (kill -9) is taken over; one that cannot be had in time blocks the send.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlockedError } from '../errors.ts';

export interface LockOptions {
  timeoutMs?: number;
  /** A live owner holding the lock longer than this is presumed hung. */
  staleMs?: number;
}

function readOwner(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** How long ago the lock file was created or last written (0 when it just vanished). */
function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function ownerAlive(text: string | null, staleMs: number, path: string): boolean {
  if (text === null) return true; // vanished or unreadable mid-write: retry rather than steal
  const [pidText, sinceText] = text.split(' ');
  const pid = Number(pidText);
  const since = Number(sinceText);
  // No pid yet: the owner is between creating the file and writing it. Only a file left like
  // that for a while (its creator died in between) is stale.
  if (!Number.isInteger(pid) || pid <= 0) return lockAgeMs(path) < 2_000;
  if (Number.isFinite(since) && Date.now() - since > staleMs) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is the process alive (on this machine)? EPERM: it exists but belongs to someone else. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(lockPath: string, work: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${Date.now()}`);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new BlockedError('STATE_UNAVAILABLE', `cannot create the lock ${lockPath} (${code})`, { cause: error });
      const owner = readOwner(lockPath);
      if (!ownerAlive(owner, staleMs, lockPath)) {
        stealStaleLock(lockPath, owner!);
        continue;
      }
      if (Date.now() > deadline) throw new BlockedError('STATE_LOCKED', `the state lock ${lockPath} is held by another sendgate process; try again`);
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
      continue;
    }
    closeSync(fd);
    const mine = readOwner(lockPath);
    try {
      return await work();
    } finally {
      // Only remove the lock if it is still ours (a presumed-hung owner may have been taken over).
      if (readOwner(lockPath) === mine) removeQuietly(lockPath);
    }
  }
}

/**
 * Move the stale lock aside atomically, then make sure it was the one judged stale; if a live
 * process re-created the lock in between, put its lock back (link never overwrites).
 */
function stealStaleLock(lockPath: string, staleOwner: string): void {
  const aside = `${lockPath}.stale.${process.pid}.${Date.now()}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else moved it first
  }
  if (readOwner(aside) !== staleOwner) {
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a third process already holds a fresh lock */
    }
  }
  removeQuietly(aside);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
