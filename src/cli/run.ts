/**
 * The thin shell around every entry point (typescript-action style): run, print, exit; catch
 * everything and report it with a stable code. Nothing here ever turns an error into success.
 */
import { EXIT, isSendgateError, type ExitCode } from '../errors.ts';

export interface CommandResult {
  stdout?: string;
  stderr?: string;
  exitCode: ExitCode;
}

export async function runCommand(name: string, main: () => Promise<CommandResult>): Promise<never> {
  let result: CommandResult;
  try {
    result = await main();
  } catch (error) {
    if (isSendgateError(error)) {
      const hint = error.exitCode === EXIT.usage ? ` (see \`${name} --help\`)` : '';
      result = { stderr: `${name}: ${error.code}: ${error.message}${hint}\n`, exitCode: error.exitCode };
    } else {
      // An unexpected failure is never "go ahead": exit 2 (blocked) with the reason.
      const message = error instanceof Error ? error.message : String(error);
      result = { stderr: `${name}: INTERNAL_ERROR: ${message}\n`, exitCode: EXIT.blocked };
    }
  }
  if (result.stdout) await write(process.stdout, result.stdout);
  if (result.stderr) await write(process.stderr, result.stderr);
  process.exit(result.exitCode);
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}
