/**
 * The policy schema: the single authority for what a policy may say. Strict everywhere, so a typo
 * is an error with its key path instead of a silently ignored safety setting.
 * Defaults are the secure defaults of DESIGN.md: public destinations only, approval always,
 * secrets and PII blocked.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { classifyPattern } from '../target/patterns.ts';

const mode = z.enum(['block', 'warn', 'off']);

const cidr = z.string().refine((value) => {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}, 'expected a CIDR such as "127.0.0.1/32" or "fd00::/8"');

const regexSource = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(value, 'u');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

/** A destination pattern (host, *.domain, URL prefix, address, JID); see src/target/patterns.ts. */
const destinationPattern = z.string().min(1).superRefine((value, ctx) => {
  const pattern = classifyPattern(value);
  if (pattern.kind === 'invalid') ctx.addIssue({ code: 'custom', message: `"${value}": ${pattern.reason}` });
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

const rateLimit = z
  .strictObject({
    max_messages_per_minute: z.number().int().positive().default(5),
    max_messages_per_hour: z.number().int().positive().default(30),
    max_messages_per_destination_per_hour: z.number().int().positive().default(10),
    cooldown_after_limit: z.number().int().nonnegative().default(300),
  })
  .prefault({});

const piiKinds = z
  .strictObject({
    card: mode.default('block'),
    ssn: mode.default('block'),
    iban: mode.default('block'),
    email: mode.default('off'),
    phone: mode.default('off'),
  })
  .prefault({});

export const policySchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected `version: 1`' }),
    mode: z.enum(['send', 'draft']).default('send'),
    approval: z
      .strictObject({
        required: z.boolean().default(true),
        ttl_seconds: z.number().int().positive().max(86_400).default(600),
        not_required_for: z.array(destinationPattern).default([]),
      })
      .prefault({}),
    network: z
      .strictObject({
        allow_private: z.array(cidr).default([]),
        allowed_ports: z.array(z.number().int().min(1).max(65_535)).default([]),
      })
      .prefault({}),
    destinations: z
      .strictObject({
        allow: z.array(destinationPattern).default([]),
        deny: z.array(destinationPattern).default([]),
      })
      .prefault({}),
    payload: z
      .strictObject({
        max_bytes: z.number().int().positive().max(10 * 1024 * 1024).default(65_536),
        secrets: mode.default('block'),
        pii: z.union([mode, piiKinds]).default('block'),
        deny_patterns: z.array(regexSource).default([]),
      })
      .prefault({}),
    rate_limit: rateLimit,
    bash_egress: z.enum(['guard', 'allowlist', 'off']).default('guard'),
    hooks: z
      .strictObject({
        /** MCP tool names (exact, or a prefix ending in `*`) whose inputs the PreToolUse hook inspects for egress. */
        mcp_tools: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    audit: z
      .strictObject({
        path: z.string().min(1).nullable().default(null),
        retention_days: z.number().int().positive().default(90),
      })
      .prefault({}),
    /** Every protocol's delivery: per-attempt timeout and the bounded retry schedule. */
    delivery: z
      .strictObject({
        timeout_ms: z.number().int().positive().max(600_000).default(10_000),
        max_attempts: z.number().int().min(1).max(10).default(3),
        base_delay_ms: z.number().int().min(0).max(60_000).default(500),
        max_delay_ms: z.number().int().min(0).max(300_000).default(10_000),
      })
      .prefault({}),
    http: z
      .strictObject({
        max_redirects: z.number().int().min(0).max(10).default(3),
      })
      .prefault({}),
    xmpp: z
      .strictObject({
        jid: z.string().min(3).nullable().default(null),
        password_env: envName.nullable().default('SENDGATE_XMPP_PASSWORD'),
        password_file: z.string().min(1).nullable().default(null),
        service: z
          .string()
          .regex(/^xmpps?:\/\/[^/]+$/, 'expected xmpp://host:port or xmpps://host:port')
          .nullable()
          .default(null),
        ca_file: z.string().min(1).nullable().default(null),
        nick: z.string().min(1).default('assistant'),
        allowed_contacts: z.array(destinationPattern).default([]),
        allow_roster_contacts: z.boolean().default(false),
        allow_subscribed_only: z.boolean().default(true),
        require_first_contact_confirmation: z.boolean().default(true),
        max_messages_per_contact_per_hour: z.number().int().positive().default(10),
        max_body_bytes: z.number().int().positive().max(262_144).default(10_000),
        receipt_timeout_ms: z.number().int().nonnegative().max(60_000).default(3_000),
        attribution: z
          .strictObject({
            suffix: z.string().nullable().default(null),
            resource: z.string().min(1).nullable().default(null),
          })
          .prefault({}),
      })
      .prefault({}),
    smtp: z
      .strictObject({
        from: z.string().min(3).nullable().default(null),
        /** Used when the destination names recipients (mailto:, an address) rather than a server. */
        server: z
          .string()
          .regex(/^smtps?:\/\/[^/]+$/, 'expected smtp://host:port or smtps://host:port')
          .nullable()
          .default(null),
        username_env: envName.nullable().default('SENDGATE_SMTP_USER'),
        password_env: envName.nullable().default('SENDGATE_SMTP_PASSWORD'),
        password_file: z.string().min(1).nullable().default(null),
        ca_file: z.string().min(1).nullable().default(null),
      })
      .prefault({}),
  });

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type PayloadMode = z.infer<typeof mode>;
