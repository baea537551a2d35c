// sendgate hook core: loaded by pre-tool-use.mjs / post-tool-use.mjs from the same directory when
// a tool call needs the policy, the guards or the audit log. Bundled by scripts/build.ts.
export { decidePreToolUse, recordPostToolUse } from '../src/hooks/core.ts';
