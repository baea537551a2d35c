import type { Constraint } from '../contract.ts';

/** One audit line. Fields follow DESIGN.md; `prev` and `hash` chain the lines together. */
export interface AuditRecord {
  id: string;
  timestamp: string;
  skill: string;
  /** decision (guards ran), delivery (a send ended), approval (a human approved), tool_outcome (PostToolUse), anchor (after prune). */
  action: 'decision' | 'delivery' | 'approval' | 'tool_outcome' | 'hook_decision' | 'anchor';
  protocol?: string | null;
  destination?: string | null;
  /** XMPP records also carry `to` (the seed's field name). */
  to?: string | null;
  body_hash?: string | null;
  body_preview?: string | null;
  triggered_by: string;
  session_id?: string | null;
  conversation_id?: string | null;
  tool_use_id?: string | null;
  verdicts?: Pick<Constraint, 'code' | 'result'>[];
  approval_id?: string | null;
  checkpoint_ref?: string | null;
  result: string;
  detail?: Record<string, unknown>;
  prev: string;
  hash: string;
}

export type AuditInput = Omit<AuditRecord, 'id' | 'timestamp' | 'prev' | 'hash'> & { timestamp?: string };
