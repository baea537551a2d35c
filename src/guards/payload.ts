/**
 * The payload guard: size limit and the user's own deny patterns. (Secret and PII detection
 * plug in here as well, see src/secrets/.)
 */
import { payloadBytes, payloadText } from '../message/payload.ts';
import { block, pass, type Guard } from './types.ts';

const compiledDenyPatterns = new WeakMap<readonly string[], RegExp[]>();

function denyPatterns(sources: readonly string[]): RegExp[] {
  let patterns = compiledDenyPatterns.get(sources);
  if (!patterns) {
    patterns = sources.map((source) => new RegExp(source, 'u'));
    compiledDenyPatterns.set(sources, patterns);
  }
  return patterns;
}

export const payloadSizeGuard: Guard = {
  name: 'payload',
  check({ request, policy }) {
    const bytes = payloadBytes(request.message);
    const max = policy.payload.max_bytes;
    if (bytes > max) return [block('payload', 'PAYLOAD_TOO_LARGE', `the message is ${bytes} bytes; payload.max_bytes allows ${max}`, { bytes, max_bytes: max })];
    return [pass('payload', 'PAYLOAD_SIZE_OK', `${bytes} bytes (limit ${max})`)];
  },
};

export const denyPatternGuard: Guard = {
  name: 'payload',
  check({ request, policy }) {
    if (policy.payload.deny_patterns.length === 0) return [];
    const text = payloadText(request.message);
    const patterns = denyPatterns(policy.payload.deny_patterns);
    const index = patterns.findIndex((pattern) => pattern.test(text));
    if (index >= 0) {
      // The pattern is the user's own text, so naming it leaks nothing; the matched text is never shown.
      return [block('payload', 'DENY_PATTERN_MATCHED', `the message matches payload.deny_patterns[${index}]`, { pattern_index: index })];
    }
    return [];
  },
};
