/**
 * The output contract every sender prints (YAML by default, JSON with --format json).
 * Users' scripts parse this, so field names and `code` values are stable.
 */
import { z } from 'zod';
import { EXIT, type ExitCode } from './errors.ts';

export const PROTOCOLS = ['http', 'smtp', 'xmpp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const DELIVERY_STATUSES = [
  'sent',
  'queued',
  'failed',
  'blocked',
  'approval_required',
  'confirmation_required',
  'draft',
  'dry_run',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Stable codes carried by every constraint entry. Passing checks carry a code too, so the output explains what was checked. */
export const CONSTRAINT_CODES = [
  // target
  'DESTINATION_INVALID',
  'PROTOCOL_MISMATCH',
  'SCHEME_NOT_ALLOWED',
  // destination lists
  'DESTINATION_NOT_ALLOWED',
  'DESTINATION_DENIED',
  'DESTINATION_ALLOWED',
  'PORT_NOT_ALLOWED',
  // network
  'NETWORK_INTERNAL',
  'NETWORK_PUBLIC',
  'NETWORK_PRIVATE_ALLOWED',
  'DNS_FAILED',
  // payload
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_SIZE_OK',
  'SECRET_IN_PAYLOAD',
  'PII_IN_PAYLOAD',
  'DENY_PATTERN_MATCHED',
  'PAYLOAD_CLEAN',
  // rate
  'RATE_LIMITED',
  'COOLDOWN_ACTIVE',
  'RATE_LIMIT_OK',
  // approval / confirmation
  'APPROVAL_REQUIRED',
  'APPROVAL_INVALID',
  'APPROVAL_VALID',
  'APPROVAL_NOT_REQUIRED',
  'CONFIRMATION_REQUIRED',
  'CONTACT_NOT_ALLOWED',
  'CONTACT_ALLOWED',
  // pipeline
  'CHECKPOINT_NOT_FOUND',
  'CHECKPOINT_OK',
  'CHECKPOINT_IN_PROGRESS',
  'ALREADY_DELIVERED',
  'DRAFT_MODE',
  'STATE_CORRUPT',
  'AUDIT_UNAVAILABLE',
  'GUARD_ERROR',
] as const;
export type ConstraintCode = (typeof CONSTRAINT_CODES)[number];

export const constraintSchema = z.object({
  code: z.enum(CONSTRAINT_CODES),
  guard: z.string(),
  result: z.enum(['pass', 'block', 'warn', 'needs_approval', 'needs_confirmation']),
  reason: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type Constraint = z.infer<typeof constraintSchema>;

export const outputSchema = z.object({
  sent: z.boolean(),
  delivery: z.object({
    status: z.enum(DELIVERY_STATUSES),
    protocol: z.enum(PROTOCOLS).nullable(),
    destination: z.string().nullable(),
    response_code: z.number().int().nullable(),
    confirmation: z.string().nullable(),
    retry_count: z.number().int().nonnegative(),
    error: z.string().nullable(),
    delivered_at: z.string().nullable(),
  }),
  constraints_applied: z.array(constraintSchema),
  approval: z.object({
    required: z.boolean(),
    status: z.enum(['not_required', 'missing', 'valid', 'invalid', 'pending', 'consumed']),
    request_id: z.string().nullable(),
    expires_at: z.string().nullable(),
    how_to_approve: z.string().nullable(),
  }),
  confidence: z.enum(['high', 'medium', 'low']),
  evidence_anchors: z.array(z.string()),
  assumptions: z.array(z.string()),
  next_actions: z.array(z.string()),
  checkpoint_ref: z.string().nullable(),
  audit_id: z.string().nullable(),
});
export type SendOutput = z.infer<typeof outputSchema>;

/** The exit code a status maps to (DESIGN.md: 0 sent/queued/draft/dry-run, 1 failed, 2 blocked, 3 approval). */
export function exitCodeFor(status: DeliveryStatus): ExitCode {
  switch (status) {
    case 'sent':
    case 'queued':
    case 'draft':
    case 'dry_run':
      return EXIT.ok;
    case 'failed':
      return EXIT.deliveryFailed;
    case 'blocked':
      return EXIT.blocked;
    case 'approval_required':
    case 'confirmation_required':
      return EXIT.approvalRequired;
  }
}

export function emptyOutput(): SendOutput {
  return {
    sent: false,
    delivery: {
      status: 'blocked',
      protocol: null,
      destination: null,
      response_code: null,
      confirmation: null,
      retry_count: 0,
      error: null,
      delivered_at: null,
    },
    constraints_applied: [],
    approval: { required: true, status: 'missing', request_id: null, expires_at: null, how_to_approve: null },
    confidence: 'high',
    evidence_anchors: [],
    assumptions: [],
    next_actions: [],
    checkpoint_ref: null,
    audit_id: null,
  };
}
