/**
 * The hook's heavy core, bundled as its own file next to the entry (pre-tool-use-core.mjs) and
 * loaded only when the fast path (light.ts) finds something to judge or record.
 */
export { decidePreToolUse } from './pre-tool-use.ts';
export { recordPostToolUse } from './post-tool-use.ts';
