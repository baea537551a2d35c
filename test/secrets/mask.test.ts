import { describe, expect, it } from 'vitest';
import { mask, MAX_SHOWN, MAX_SHOWN_SHARE } from '../../src/secrets/mask.ts';
import { Fakes } from '../fixtures/secrets/fakes.ts';

describe('mask', () => {
  it.each([
    ['ghp_0123456789abcdefghijABCDEFGHIJ012345', 'ghp_…(40 chars)'],
    ['hunter2', 'h…(7 chars)'],
    ['abcd', '…(4 chars)'],
    ['', '…(0 chars)'],
    ['AKIAQ3EGZ5HJ4XK7PLMN', 'AKIA…(20 chars)'],
    ['пароль-секрет', 'па…(13 chars)'],
    ['a\nbcdefghij', 'a?…(11 chars)'],
  ])('mask(%j) = %j', (secret, expected) => {
    expect(mask(secret)).toBe(expected);
  });

  it('never shows more than 4 characters or 20% of the value', () => {
    const f = new Fakes(1);
    for (let length = 1; length <= 200; length++) {
      const secret = f.str('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', length);
      const shown = mask(secret).split('…')[0]!;
      expect(shown.length).toBeLessThanOrEqual(MAX_SHOWN);
      expect(shown.length).toBeLessThanOrEqual(Math.floor(length * MAX_SHOWN_SHARE));
      expect(secret.startsWith(shown)).toBe(true);
      expect(mask(secret)).toContain(`(${length} chars)`);
    }
  });
});
