#!/usr/bin/env node
// sendgate PreToolUse hook (Claude Code): guards sends and Bash/WebFetch/MCP egress; fails closed.
// Logic lives in src/hooks/; this file is bundled to hooks/dist/ and skills/*/scripts/.
import { runPreToolUseHook } from '../src/hooks/run.ts';

void runPreToolUseHook();
