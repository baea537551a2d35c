#!/usr/bin/env node
// sendgate PostToolUse hook (Claude Code): audits the outcome of sendgate and egress commands.
// Logic lives in src/hooks/; this file is bundled to hooks/dist/ and skills/*/scripts/.
import { runPostToolUseHook } from '../src/hooks/run.ts';

void runPostToolUseHook();
