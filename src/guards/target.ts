import { parseDestination } from '../target/parse.ts';
import { block, type Guard } from './types.ts';

/** Parses the destination; every later guard works on the normalised Target. */
export const targetGuard: Guard = {
  name: 'target',
  check(context) {
    const result = parseDestination(context.request.destination, context.request.protocol);
    if (!result.ok) return [block('target', result.code, result.reason)];
    context.target = result.target;
    return [];
  },
};

