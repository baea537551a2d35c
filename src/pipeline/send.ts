/**
 * The send pipeline, in one explicit order (the sender is the enforcement; it holds with no hook):
 *
 *   1. parse the message                     (bad input: exit 64)
 *   2. stateless guards (src/guards/index.ts) (blocked: exit 2)
 *   3. draft mode                            (propose, never send: exit 0)
 *   4. dry run: peek rate limits and the token, touch nothing (exit 0 / 2)
 *   5. audit the decision                    (no audit, no send: exit 2)
 *   6. one state transaction: checkpoint lookup, rate limits, approval (verify + consume),
 *      outbox record written before anything leaves  (exit 2 / 3)
 *   7. deliver with bounded retries to the vetted addresses only
 *   8. record the confirmation in the outbox, audit the delivery, print the contract (exit 0 / 1)
 */
import type { Policy } from '../config/schema.ts';
import { CONSTRAINT_CODES, emptyOutput, exitCodeFor, type Constraint, type Protocol, type SendOutput } from '../contract.ts';
import { BlockedError, EXIT, type ExitCode } from '../errors.ts';
import { appendAudit } from '../audit/log.ts';
import { preview } from '../audit/preview.ts';
import { redactDestination } from '../secrets/redact.ts';
import type { AuditInput } from '../audit/record.ts';
import type { CallConstraints, RetryPolicy } from '../cli/send-args.ts';
import { runGuards, STATELESS_GUARDS } from '../guards/index.ts';
import { checkHost } from '../guards/network.ts';
import { evaluateLists, checksFor } from '../guards/destination.ts';
import { block, pass, type Endpoint, type Guard, type GuardContext, type GuardDeps } from '../guards/types.ts';
import { parseMessage } from '../message/parse.ts';
import { payloadText, sendDigest, sha256Hex } from '../message/payload.ts';
import type { Message } from '../message/types.ts';
import { newId, openRequest, verifyToken } from '../state/approvals.ts';
import { checkRate, peekRate, recordSend } from '../state/rate-limit.ts';
import { processAlive } from '../state/lock.ts';
import type { OutboxRecord, StateStore } from '../state/store.ts';
import { endpointFor } from '../target/endpoint.ts';
import { classifyPattern, matchAddress, matchServer, matchUrl } from '../target/patterns.ts';
import { parseDestination, type Target } from '../target/parse.ts';
import type { DeliveryConfirmation, Transport } from '../transports/types.ts';
import { expandForKeys, limitsFor, rateKeys } from './rate.ts';
import { withRetries } from './retry.ts';

export interface SendInputs {
  skill: 'send' | 'xmpp_send';
  protocol: Protocol;
  destination: string;
  /** Raw --message text, or an already typed message (xmpp-send builds its own). */
  message: string | Message;
  approvalToken?: string | undefined;
  checkpointRef?: string | undefined;
  constraints: CallConstraints;
  timeoutMs?: number | undefined;
  retryPolicy?: Partial<RetryPolicy> | undefined;
  dryRun: boolean;
}

export interface SendEnvironment {
  policy: Policy;
  store: StateStore;
  auditPath: string;
  deps: GuardDeps;
  transports: Partial<Record<Protocol, Transport<any>>>;
  /** Configuration checks a transport needs before anything is consumed (throw ConfigError: exit 78). */
  preflight?: Partial<Record<Protocol, (policy: Policy, env: NodeJS.ProcessEnv) => void | Promise<void>>>;
  /** Protocol-specific stateful guards run after the stateless ones (e.g. XMPP contact rules). */
  extraGuards?: readonly Guard[];
  triggeredBy: string;
  sessionId?: string | null;
  toolUseId?: string | null;
  /** How a human approves, shown in approval_required output. */
  approveCommand: (requestId: string) => string;
  env: NodeJS.ProcessEnv;
  wait?: (ms: number) => Promise<unknown>;
}

export interface SendResult {
  output: SendOutput;
  exitCode: ExitCode;
}

export async function executeSend(input: SendInputs, environment: SendEnvironment): Promise<SendResult> {
  const policy = effectivePolicy(environment.policy, input.constraints);
  const message = typeof input.message === 'string' ? parseMessage(input.message, input.protocol) : input.message;
  const output = emptyOutput();
  output.delivery.protocol = input.protocol;
  output.delivery.destination = input.destination;

  // 2. stateless guards
  const context: GuardContext = { request: { skill: input.skill, protocol: input.protocol, destination: input.destination, message }, policy, deps: environment.deps };
  const run = await runGuards(context, [...STATELESS_GUARDS, ...(environment.extraGuards ?? [])]);
  output.constraints_applied = run.constraints;
  const target = context.target;
  if (target) output.delivery.destination = redactDestination(target.display);
  const text = payloadText(message);
  const audit = auditBase(input, environment, target, text);

  if (run.blocked) return finishBlocked(output, environment, audit, 'blocked');

  const digest = sendDigest(input.protocol, target!.display, message);
  // A guard may ask for a human confirmation (XMPP first contact: result needs_confirmation), or waive
  // the per-message approval for a contact the user trusts (XMPP "always": a guard-issued APPROVAL_NOT_REQUIRED).
  const confirmation = run.constraints.find((constraint) => constraint.result === 'needs_confirmation');
  const waived = run.constraints.some((constraint) => constraint.code === 'APPROVAL_NOT_REQUIRED' && constraint.result === 'pass');
  const approvalRequired = Boolean(confirmation) || (needsApproval(policy, target!) && !waived);
  output.approval.required = approvalRequired;
  if (!approvalRequired) {
    output.approval.status = 'not_required';
    if (!waived) output.constraints_applied.push(pass('approval', 'APPROVAL_NOT_REQUIRED', policy.approval.required ? 'approval.not_required_for lists this destination' : 'approval.required is false in the policy'));
  }
  const keys = rateKeys(target!, message);
  const limits = expandForKeys(limitsFor(policy, keys, input.constraints), keys.length);
  // The approval key is read only when a token has to be checked.
  const key = approvalRequired ? await environment.store.hmacKey().catch((error: unknown) => stateFailure(error)) : Buffer.alloc(0);
  if (!Buffer.isBuffer(key)) {
    output.constraints_applied.push(key);
    return finishBlocked(output, environment, audit, 'blocked');
  }

  // 3. draft mode
  if (policy.mode === 'draft') {
    output.constraints_applied.push(pass('mode', 'DRAFT_MODE', 'the policy is in draft mode: messages are proposed, never sent'));
    output.delivery.status = 'draft';
    output.assumptions.push('mode: draft — nothing is sent while the policy says so');
    output.next_actions.push('Show the user the drafted message and destination; nothing was sent. To send, the user switches the policy to `mode: send`.');
    output.evidence_anchors.push(`digest:${digest}`);
    return finish(output, environment, { ...audit, action: 'decision', result: 'draft' });
  }

  // A transport's configuration (credentials, sender, CA file) is checked before any state changes.
  await environment.preflight?.[input.protocol]?.(policy, environment.env);

  // 4. dry run
  if (input.dryRun) {
    const rate = peekRate(environment.store.read('rate'), limits, environment.deps.now().getTime());
    if (!rate.ok) {
      output.constraints_applied.push(block('rate_limit', rate.code, rate.reason, { retry_after_seconds: rate.retryAfterSeconds }));
      return finishBlocked(output, environment, audit, 'blocked');
    }
    output.constraints_applied.push(pass('rate_limit', 'RATE_LIMIT_OK', `within limits (${rate.detail})`));
    if (approvalRequired) {
      if (input.approvalToken) {
        const check = verifyToken(key, input.approvalToken, digest, environment.deps.now());
        const consumed = check.ok && environment.store.read('approvals').consumed[check.id] !== undefined;
        output.approval.status = check.ok && !consumed ? 'valid' : 'invalid';
        output.constraints_applied.push(
          check.ok && !consumed
            ? pass('approval', 'APPROVAL_VALID', 'the approval token is valid for this message (a dry run does not use it up)')
            : { code: 'APPROVAL_INVALID', guard: 'approval', result: 'needs_approval', reason: check.ok ? 'the approval token was already used' : check.reason },
        );
      } else {
        output.approval.status = 'missing';
        output.constraints_applied.push({ code: 'APPROVAL_REQUIRED', guard: 'approval', result: 'needs_approval', reason: 'a real send needs the user\'s approval for this exact message and destination' });
        output.next_actions.push('A real send will need the user\'s approval: run it without --dry-run to create the approval request.');
      }
    }
    output.delivery.status = 'dry_run';
    output.next_actions.unshift('Dry run passed: nothing was sent, no approval used, no limit counted.');
    output.evidence_anchors.push(`digest:${digest}`);
    return finish(output, environment, { ...audit, action: 'decision', result: 'dry_run' });
  }

  // 5. no audit, no send: the decision is on record before anything changes.
  const decision = await appendAudit(environment.auditPath, { ...audit, action: 'decision', result: 'checking' }).catch((error: Error) => error);
  if (decision instanceof Error) {
    output.constraints_applied.push(block('audit', 'AUDIT_UNAVAILABLE', decision.message));
    output.delivery.status = 'blocked';
    output.next_actions.push('Tell the user the audit log cannot be written; nothing is sent until it can.');
    return { output, exitCode: EXIT.blocked };
  }

  // 6. checkpoint, rate limits, approval, outbox: one transaction.
  const now = environment.deps.now();
  const retrySettings = {
    maxAttempts: input.retryPolicy?.max_attempts ?? policy.delivery.max_attempts,
    baseDelayMs: input.retryPolicy?.base_delay_ms ?? policy.delivery.base_delay_ms,
    maxDelayMs: input.retryPolicy?.max_delay_ms ?? policy.delivery.max_delay_ms,
  };
  const timeoutMs = input.timeoutMs ?? policy.delivery.timeout_ms;
  // How long this process may hold a checkpoint in `sending`: every attempt and wait, plus a margin.
  const lease = { owner_pid: process.pid, lease_until: now.getTime() + retrySettings.maxAttempts * (timeoutMs + retrySettings.maxDelayMs) + 60_000 };
  const gate = await environment.store.transaction(['approvals', 'rate', 'outbox'], (state) => {
    const records = Object.values(state.outbox.records);
    let record: OutboxRecord | undefined;
    if (input.checkpointRef) {
      record = state.outbox.records[input.checkpointRef];
      if (!record) return { kind: 'blocked' as const, constraint: block('checkpoint', 'CHECKPOINT_NOT_FOUND', `checkpoint ${input.checkpointRef} does not exist; run the send without --checkpoint-ref to start a new one`) };
      if (record.digest !== digest) return { kind: 'blocked' as const, constraint: block('checkpoint', 'CHECKPOINT_NOT_FOUND', `checkpoint ${input.checkpointRef} belongs to a different message or destination`) };
      if (record.status === 'delivered') return { kind: 'delivered' as const, record };
    }

    let approvalId: string | null = null;
    if (approvalRequired) {
      const check = input.approvalToken ? verifyToken(key, input.approvalToken, digest, now) : null;
      if (!check || !check.ok) {
        const request = openRequest(state.approvals, { digest, skill: input.skill, protocol: input.protocol, destination: redactDestination(target!.display), summary: preview(text, 300), reason: confirmation?.reason ?? 'sendgate asks a human before anything leaves', kind: confirmation ? 'first_contact' : 'approval' }, now, policy.approval.ttl_seconds);
        return { kind: 'approval' as const, request, invalid: check && !check.ok ? check.reason : null };
      }
      approvalId = check.id;
      if (state.approvals.consumed[check.id]) {
        // A used token may only resume its own checkpoint (a crash mid-send), never start a second delivery.
        const own = records.find((item) => item.approval_id === check.id);
        if (own?.status === 'delivered') return { kind: 'delivered' as const, record: own };
        if (!own) return { kind: 'approval' as const, request: null, invalid: 'the approval token was already used' };
        if (inFlight(own, now.getTime())) {
          return { kind: 'approval' as const, request: null, invalid: `the approval token was already used: another sendgate process (pid ${own.owner_pid}) is delivering it right now (checkpoint ${own.id})`, inFlight: own };
        }
        record = own;
      }
    } else if (!record) {
      // Resume only a checkpoint whose sender died mid-send; one being delivered right now by a live
      // process is that process's business (this call is a send of its own, counted as one).
      record = records.find((item) => item.digest === digest && item.approval_id === null && (item.status === 'sending' || item.status === 'pending') && !inFlight(item, now.getTime()));
    }

    if (!record) {
      const rate = checkRate(state.rate, limits, now.getTime(), policy.rate_limit.cooldown_after_limit);
      if (!rate.ok) return { kind: 'blocked' as const, constraint: block('rate_limit', rate.code, rate.reason, { retry_after_seconds: rate.retryAfterSeconds }) };
      for (const rateKey of keys) recordSend(state.rate, rateKey, input.skill, now.getTime());
      if (approvalId) state.approvals.consumed[approvalId] = now.toISOString();
      if (approvalId && state.approvals.pending[approvalId]) delete state.approvals.pending[approvalId];
      const id = newId('cp');
      record = {
        id, idempotency_key: `sendgate-${id}`, digest, skill: input.skill, protocol: input.protocol, destination: redactDestination(target!.display),
        approval_id: approvalId, status: 'sending', attempts: 0, created_at: now.toISOString(), updated_at: now.toISOString(),
        response_code: null, confirmation: null, error: null, delivered_at: null, ...lease,
      };
      state.outbox.records[id] = record;
      pruneOutbox(state.outbox.records, now);
      return { kind: 'send' as const, record, resumed: false, rateDetail: rate.detail };
    }
    if (inFlight(record, now.getTime())) return { kind: 'blocked' as const, constraint: block('checkpoint', 'CHECKPOINT_IN_PROGRESS', `checkpoint ${record.id} is being delivered right now by another sendgate process (pid ${record.owner_pid}); not sent twice. Run the same command again once it has finished to see its result`) };
    // Retrying a failed delivery is a new attempt to deliver and counts like one; resuming a send
    // whose process died mid-way does not (it was counted when it started).
    let resumeDetail = 'not counted again (resuming an interrupted checkpoint)';
    if (record.status === 'failed') {
      const rate = checkRate(state.rate, limits, now.getTime(), policy.rate_limit.cooldown_after_limit);
      if (!rate.ok) return { kind: 'blocked' as const, constraint: block('rate_limit', rate.code, rate.reason, { retry_after_seconds: rate.retryAfterSeconds }) };
      for (const rateKey of keys) recordSend(state.rate, rateKey, input.skill, now.getTime());
      resumeDetail = `retrying a failed checkpoint counts as a send: ${rate.detail}`;
    }
    // A fresh token that resumes a checkpoint is used up by it, like one that starts a delivery.
    // (The checkpoint then belongs to that token, so a crash mid-send is resumed with it.)
    if (approvalId && !state.approvals.consumed[approvalId]) {
      state.approvals.consumed[approvalId] = now.toISOString();
      delete state.approvals.pending[approvalId];
      record.approval_id = approvalId;
    }
    record.status = 'sending';
    record.updated_at = now.toISOString();
    Object.assign(record, lease);
    return { kind: 'send' as const, record, resumed: true, rateDetail: resumeDetail };
  }).catch((error: unknown) => ({ kind: 'blocked' as const, constraint: stateFailure(error) }));

  if (gate.kind === 'blocked') {
    output.constraints_applied.push(gate.constraint);
    return finishBlocked(output, environment, audit, 'blocked');
  }
  if (gate.kind === 'delivered') {
    const record = gate.record;
    output.constraints_applied.push(pass('checkpoint', 'ALREADY_DELIVERED', `checkpoint ${record.id} was delivered at ${record.delivered_at}; not sent again`));
    output.sent = true;
    output.delivery = { ...output.delivery, status: 'sent', response_code: record.response_code, confirmation: record.confirmation, retry_count: Math.max(0, record.attempts - 1), delivered_at: record.delivered_at };
    output.checkpoint_ref = record.id;
    output.approval.status = approvalRequired ? 'consumed' : output.approval.status;
    output.evidence_anchors.push(`outbox:${record.id}:delivered`);
    output.next_actions.push('Already delivered earlier: nothing more to do.');
    return finish(output, environment, { ...audit, action: 'decision', result: 'already_delivered', checkpoint_ref: record.id });
  }
  if (gate.kind === 'approval') {
    output.delivery.status = confirmation ? 'confirmation_required' : 'approval_required';
    if (confirmation && gate.request) {
      const draft = typeof confirmation.detail?.draft === 'string' ? confirmation.detail.draft : preview(text, 500);
      output.next_actions.push(`First message to ${target!.display}: show the user the drafted message and ask yes, no, or always for this contact. Drafted message: ${JSON.stringify(draft)}`);
    }
    output.approval.status = gate.invalid ? 'invalid' : 'missing';
    if (gate.invalid) output.constraints_applied.push({ code: 'APPROVAL_INVALID', guard: 'approval', result: 'needs_approval', reason: gate.invalid });
    output.constraints_applied.push({ code: 'APPROVAL_REQUIRED', guard: 'approval', result: 'needs_approval', reason: 'this message needs the user\'s approval before it is sent' });
    if (gate.request) {
      output.approval.request_id = gate.request.id;
      output.approval.expires_at = gate.request.expires_at;
      output.approval.how_to_approve = environment.approveCommand(gate.request.id);
      output.next_actions.push(
        `Ask the user to approve request ${gate.request.id} (${input.protocol} to ${redactDestination(target!.display)}). They run, in their own terminal: ${environment.approveCommand(gate.request.id)}${confirmation ? ' (add --always to never ask again for this contact; `approve.mjs deny` for no)' : ''}`,
        'Then re-run exactly the same command with --approval-token <the token they give you>. Do not try to approve it yourself.',
      );
    } else if ('inFlight' in gate && gate.inFlight) {
      output.checkpoint_ref = gate.inFlight.id;
      output.next_actions.push(`Another run with this approval is delivering it right now (checkpoint ${gate.inFlight.id}); it is not sent twice. Wait, then run the same command again to see the result.`);
    } else {
      output.next_actions.push('This approval was already used for a delivery; a new send of the same message needs a new approval. Run the command again without --approval-token to request one.');
    }
    return finish(output, environment, { ...audit, action: 'decision', result: 'approval_required', approval_id: gate.request?.id ?? null });
  }

  // 7. deliver
  const record = gate.record;
  output.checkpoint_ref = record.id;
  output.constraints_applied.push(pass('rate_limit', 'RATE_LIMIT_OK', gate.rateDetail));
  output.constraints_applied.push(pass('checkpoint', 'CHECKPOINT_OK', gate.resumed ? `resuming checkpoint ${record.id} (idempotency key kept)` : `checkpoint ${record.id} written before sending`));
  if (approvalRequired) {
    output.approval.status = 'consumed';
    output.approval.request_id = record.approval_id;
    output.constraints_applied.push(pass('approval', 'APPROVAL_VALID', 'approved by the user for exactly this message and destination'));
  }
  const transport = environment.transports[input.protocol];
  if (!transport) throw new Error(`no transport for ${input.protocol}`);
  const endpoint = context.endpoint!;
  const outcome = await withRetries<DeliveryConfirmation>(
    retrySettings,
    () => transport({
      target: target!, endpoint, message, policy, env: environment.env,
      timeoutMs,
      idempotencyKey: record.idempotency_key,
      recheck: (destination) => recheckHop(destination, input, policy, environment.deps, message),
    }),
    environment.wait,
  );

  // 8. confirm, audit, report
  const finishedAt = environment.deps.now().toISOString();
  const recorded = await environment.store.transaction(['outbox'], (state) => {
    const stored = state.outbox.records[record.id];
    if (!stored) return;
    stored.attempts += outcome.attempts;
    stored.updated_at = finishedAt;
    stored.owner_pid = null;
    stored.lease_until = null;
    if (outcome.value) {
      stored.status = 'delivered';
      stored.response_code = outcome.value.responseCode;
      stored.confirmation = outcome.value.confirmation;
      stored.delivered_at = finishedAt;
      stored.error = null;
    } else {
      stored.status = 'failed';
      stored.response_code = outcome.error?.responseCode ?? null;
      stored.error = `${outcome.error?.code}: ${outcome.error?.message}`;
    }
  }).catch((error: unknown) => error as Error);
  if (recorded instanceof Error) {
    // What happened on the wire is reported truthfully; the outbox is what could not be updated.
    output.assumptions.push(`the outbox record ${record.id} could not be updated (${recorded.message}); it still says "sending", so a re-run with --checkpoint-ref ${record.id} may send it again`);
    output.confidence = 'medium';
  }
  output.delivery.retry_count = outcome.attempts - 1;
  output.evidence_anchors.push(`outbox:${record.id}`, `idempotency-key:${record.idempotency_key}`);
  if (outcome.value) {
    const confirmation = outcome.value;
    output.sent = true;
    output.delivery.status = confirmation.status;
    output.delivery.response_code = confirmation.responseCode;
    output.delivery.confirmation = truncate(confirmation.confirmation, 300);
    output.delivery.delivered_at = finishedAt;
    output.evidence_anchors.push(...confirmation.evidence.map((anchor) => anchor.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (url) => redactDestination(url))));
    output.next_actions.push(confirmation.status === 'queued' ? 'Accepted for later processing by the receiver; nothing more to do.' : 'Delivered; nothing more to do.');
  } else if (outcome.error?.blockedBy && (CONSTRAINT_CODES as readonly string[]).includes(outcome.error.blockedBy.code)) {
    // A guard stopped the delivery midway (a redirect to a hop that is not allowed): a policy block.
    const error = outcome.error;
    output.constraints_applied.push(block('redirect', error.blockedBy!.code as Constraint['code'], error.blockedBy!.reason));
    output.delivery.status = 'blocked';
    output.delivery.response_code = error.responseCode ?? null;
    output.delivery.error = `${error.code}: ${truncate(error.message, 300)}`;
    output.next_actions.push('The receiver redirected the message to a destination the policy does not allow, so it was not followed. Tell the user; do not resend it elsewhere yourself.');
  } else {
    const error = outcome.error!;
    output.delivery.status = 'failed';
    output.delivery.response_code = error.responseCode ?? null;
    output.delivery.error = `${error.code}: ${truncate(error.message, 300)}`;
    output.confidence = 'high';
    output.next_actions.push(
      error.retryable
        ? input.skill === 'send'
          ? `Delivery failed after ${outcome.attempts} attempt(s). Tell the user; to try again later run the same command with --checkpoint-ref ${record.id} (it will not deliver twice).`
          : `Delivery failed after ${outcome.attempts} attempt(s). Tell the user; to try again later run the same command again (checkpoint ${record.id}; nothing was delivered).`
        : `Delivery failed and retrying will not help (${error.code}). Tell the user what the receiver said; do not resend without their say-so.`,
    );
  }
  return finish(output, environment, {
    ...audit, action: 'delivery', checkpoint_ref: record.id, approval_id: record.approval_id,
    result: output.delivery.status, detail: { retry_count: output.delivery.retry_count, response_code: output.delivery.response_code, error: output.delivery.error },
  });
}

/** A checkpoint a live process is delivering right now (its owner is alive and its lease not over). */
function inFlight(record: OutboxRecord, now: number): boolean {
  return record.status === 'sending' && record.owner_pid !== null && (record.lease_until ?? 0) > now && processAlive(record.owner_pid);
}

/** The state directory failed us (corrupt file, unwritable, lock not to be had): block, never reset. */
function stateFailure(error: unknown): Constraint {
  if (!(error instanceof BlockedError)) throw error;
  const code = error.code === 'STATE_CORRUPT' ? 'STATE_CORRUPT' : 'GUARD_ERROR';
  return block('state', code, code === 'STATE_CORRUPT' ? error.message : `${error.code}: ${error.message}`);
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function effectivePolicy(policy: Policy, call: CallConstraints): Policy {
  if (call.max_bytes === undefined || call.max_bytes >= policy.payload.max_bytes) return policy;
  return { ...policy, payload: { ...policy.payload, max_bytes: call.max_bytes } };
}

export function needsApproval(policy: Policy, target: Target): boolean {
  if (!policy.approval.required) return false;
  const patterns = policy.approval.not_required_for.map(classifyPattern);
  if (patterns.length === 0) return true;
  switch (target.kind) {
    case 'url':
      return !patterns.some((pattern) => (target.url ? matchUrl(pattern, target.url) : matchServer(pattern, target.host, target.port!)));
    case 'email':
      return !target.addresses.every((address) => patterns.some((pattern) => matchAddress(pattern, address, 'mailto')));
    case 'jid':
      return !patterns.some((pattern) => matchAddress(pattern, target.jid!.bare, 'xmpp'));
  }
}

/** A redirect hop gets the destination lists, the allowed ports and the network guard, exactly as the first request. */
async function recheckHop(destination: string, input: SendInputs, policy: Policy, deps: GuardDeps, message: Message) {
  const parsed = parseDestination(destination, input.protocol);
  if (!parsed.ok) return { ok: false as const, code: parsed.code, reason: parsed.reason };
  const lists = evaluateLists(checksFor(parsed.target, message, policy), policy);
  const blocked = lists.find((constraint) => constraint.result === 'block');
  if (blocked) return { ok: false as const, code: blocked.code, reason: blocked.reason };
  const address = endpointFor(parsed.target, policy);
  // network.allowed_ports binds every hop, as the destination guard binds the first request.
  const ports = policy.network.allowed_ports;
  if (ports.length > 0 && !ports.includes(address.port)) {
    return { ok: false as const, code: 'PORT_NOT_ALLOWED' as const, reason: `port ${address.port} is not in network.allowed_ports (${ports.join(', ')})` };
  }
  const verdict = await checkHost(address.host, address.hostKind, policy, deps);
  if (!verdict.ok) return { ok: false as const, code: verdict.constraint.code, reason: verdict.constraint.reason };
  const endpoint: Endpoint = { host: address.host, hostKind: address.hostKind, port: address.port, addresses: verdict.addresses };
  return { ok: true as const, target: parsed.target, endpoint };
}

function auditBase(input: SendInputs, environment: SendEnvironment, target: Target | undefined, text: string): AuditInput {
  return {
    skill: input.skill,
    action: 'decision',
    protocol: input.protocol,
    destination: target ? redactDestination(target.display) : preview(input.destination, 200),
    ...(input.protocol === 'xmpp' ? { to: target?.jid?.bare ?? null } : {}),
    body_hash: sha256Hex(text),
    body_preview: preview(text),
    triggered_by: environment.triggeredBy,
    session_id: environment.sessionId ?? null,
    conversation_id: environment.sessionId ?? null,
    tool_use_id: environment.toolUseId ?? null,
    result: 'checking',
  };
}

function verdicts(constraints: Constraint[]) {
  return constraints.map(({ code, result }) => ({ code, result }));
}

async function finish(output: SendOutput, environment: SendEnvironment, audit: AuditInput): Promise<SendResult> {
  try {
    const record = await appendAudit(environment.auditPath, { ...audit, verdicts: verdicts(output.constraints_applied) });
    output.audit_id = record.id;
    output.evidence_anchors.push(`audit:${record.id}`);
  } catch (error) {
    // Delivery may already have happened; report it truthfully, and say the record is missing.
    output.assumptions.push(`the audit record could not be written: ${(error as Error).message}`);
    output.confidence = 'medium';
  }
  return { output, exitCode: exitCodeFor(output.delivery.status) };
}

function finishBlocked(output: SendOutput, environment: SendEnvironment, audit: AuditInput, result: string): Promise<SendResult> {
  output.delivery.status = 'blocked';
  output.sent = false;
  const blocked = output.constraints_applied.find((constraint) => constraint.result === 'block');
  if (blocked) output.delivery.error = `${blocked.code}: ${blocked.reason}`;
  output.next_actions.push(
    'Do not retry or work around this block. Tell the user what was blocked and why (the code above); changing the policy or approving is their decision.',
  );
  return finish(output, environment, { ...audit, action: 'decision', result });
}

function pruneOutbox(records: Record<string, OutboxRecord>, now: Date): void {
  const month = 30 * 86_400_000;
  for (const [id, record] of Object.entries(records)) {
    if (record.status === 'delivered' && Date.parse(record.updated_at) + month < now.getTime()) delete records[id];
  }
}

