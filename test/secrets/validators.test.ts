import { describe, expect, it } from 'vitest';
import {
  base62,
  basicCredentialsValid,
  cardIssuer,
  cardNumberValid,
  crc32,
  decodeBase64Text,
  discordTokenValid,
  ibanAt,
  ibanMod97Valid,
  isPlaceholder,
  isReference,
  jwtValid,
  keyNamesPassword,
  keyNamesSecret,
  luhnValid,
  passwordLike,
  prefixedCrc32Valid,
  proseCandidates,
  sasSignatureValid,
  secretLike,
  shannonEntropy,
  ssnValid,
} from '../../src/secrets/validators.ts';
import { Fakes } from '../fixtures/secrets/fakes.ts';

const f = new Fakes(42);

describe('crc32 and base62', () => {
  it.each([
    ['', 0x00000000],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('crc32(%j) = %d', (input, expected) => {
    expect(crc32(input)).toBe(expected);
  });

  it.each([
    [0, 6, '000000'],
    [61, 1, 'z'],
    [62, 2, '10'],
    [0xffffffff, 6, '4gfFC3'],
  ])('base62(%d, %d) = %s', (value, width, expected) => {
    expect(base62(value, width)).toBe(expected);
  });
});

describe('GitHub / npm token checksums', () => {
  it('accepts generated tokens of every prefix', () => {
    for (const kind of ['ghp', 'gho', 'ghu', 'ghs', 'ghr'] as const) expect(prefixedCrc32Valid(f.github(kind))).toBe(true);
    expect(prefixedCrc32Valid(f.npm())).toBe(true);
  });

  it('rejects a token with one character changed, a wrong length or a bad alphabet', () => {
    const token = f.github('ghp');
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    expect(prefixedCrc32Valid(flipped)).toBe(false);
    expect(prefixedCrc32Valid(token.slice(0, -1))).toBe(false);
    expect(prefixedCrc32Valid(token.slice(0, -1) + '-')).toBe(false);
    expect(prefixedCrc32Valid('ghp_' + 'x'.repeat(36))).toBe(false);
  });
});

describe('Luhn, cards, SSNs, IBANs', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['378282246310005', true],
    ['0', false], // too short to be a number with a check digit
    ['12a4', false],
  ])('luhnValid(%s) = %s', (digits, expected) => {
    expect(luhnValid(digits)).toBe(expected);
  });

  it.each([
    ['4111111111111111', 'visa'],
    ['5500005555555559', 'mastercard'],
    ['2221000000000009', 'mastercard'],
    ['378282246310005', 'amex'],
    ['6011111111111117', 'discover'],
    ['3530111333300000', 'jcb'],
    ['1716912345123', null],
    ['9999999999999995', null],
  ])('cardIssuer(%s) = %s', (digits, expected) => {
    expect(cardIssuer(digits)).toBe(expected);
  });

  it.each([
    ['4111 1111 1111 1111', true],
    ['4111-1111-1111-1111', true],
    ['3782 822463 10005', true],
    ['4111 1111-1111 1111', false], // mixed separators
    ['26439928-3367-4002-1111', false], // UUID-like grouping
    ['4111 1111 1111 1112', false], // Luhn
    ['1234567890123452', false], // no issuer
  ])('cardNumberValid(%j) = %s', (written, expected) => {
    expect(cardNumberValid(written)).toBe(expected);
  });

  it.each([
    ['123', '45', '6789', true],
    ['000', '12', '3456', false],
    ['666', '12', '3456', false],
    ['901', '12', '3456', false],
    ['123', '00', '3456', false],
    ['123', '45', '0000', false],
  ])('ssnValid(%s-%s-%s) = %s', (area, group, serial, expected) => {
    expect(ssnValid(area, group, serial)).toBe(expected);
  });

  it.each([
    ['DE89370400440532013000', true],
    ['GB82WEST12345698765432', true],
    ['FR1420041010050500013M02606', true],
    ['DE89370400440532013001', false],
    ['XX89370400440532013000', false],
  ])('ibanMod97Valid(%s) = %s', (iban, expected) => {
    expect(ibanMod97Valid(iban)).toBe(expected);
  });

  it('ibanAt takes the country length from a spaced candidate', () => {
    expect(ibanAt('DE89 3704 0044 0532 0130 00')).toBe('DE89370400440532013000');
    expect(ibanAt('DE89 3704 0044 0532 0130 00 12')).toBe('DE89370400440532013000');
    expect(ibanAt('RF18 5390 0754 7034')).toBeNull();
    expect(ibanAt(f.ibanFR())).not.toBeNull();
  });
});

describe('value tests', () => {
  it('entropy separates random from repetitive text', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy(f.str('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 40))).toBeGreaterThan(4.5);
  });

  it.each([
    '${GITHUB_TOKEN}',
    '{{ secrets.API_KEY }}',
    '<redacted>',
    '<token>',
    '[REDACTED]',
    'xxxxxxxxxxxx',
    'sk_live_xxxxxxxxxxxxxxxxxxxxxxxx',
    '********',
    'your-token-here',
    'YOUR_API_KEY',
    'insert_key_here',
    'changeme',
    'replace-me',
    '%s',
    '1234567890abcdefghij',
    'abcabcabcabcabc',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '...',
  ])('isPlaceholder(%j)', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it('does not take random tokens for placeholders', () => {
    for (let i = 0; i < 200; i++) {
      expect(isPlaceholder(f.github('ghp'))).toBe(false);
      expect(isPlaceholder(f.b64url(30))).toBe(false);
    }
  });

  it.each(['process.env.DB_PASSWORD', "os.environ['X']", 'get_password()', 'config.db.password', 'DB_PASSWORD', '$DB_PASS', 'arn:aws:secretsmanager:x', 'https://vault.example.org/x', '/run/secrets/db'])(
    'isReference(%j)',
    (value) => {
      expect(isReference(value)).toBe(true);
    },
  );

  it.each([
    ['hunter22', true],
    ['Tr0ub4dor&3', true],
    ['S3cr3t!Pass', true],
    ['correcthorsebatterystaple', true],
    ['correct horse battery staple', true],
    ['83920174', true],
    ['12345678', false], // a sequence: a sample, not a password
    ['required', false],
    ['incorrect', false],
    ['Password', false],
    ['userPassword', false],
    ['1.2.3', false],
    ['${PW}', false],
    ['abc', false],
    ['Enter your password', false],
  ])('passwordLike(%j) = %s', (value, expected) => {
    expect(passwordLike(value)).toBe(expected);
  });

  it.each([
    [f.b64url(32), true],
    [f.hex(40), true],
    ['0123456789abcdef0123', false],
    ['bearer', false],
    ['my-webhook-name', false],
    ['getAccessToken', false],
    ['prod-db-credentials', false],
    ['1716912345', false],
  ])('secretLike(%j) = %s', (value, expected) => {
    expect(secretLike(value)).toBe(expected);
  });
});

describe('what a key says', () => {
  it.each([
    ['DB_PASSWORD', true],
    ['dbPassword', true],
    ['spring.datasource.password', true],
    ['pwd', true],
    ['pass', true],
    ['mot_de_passe', true],
    ['passwordless', false],
    ['bypass', false],
    ['passport', false],
    ['password_hint', false],
    ['password_min_length', false],
  ])('keyNamesPassword(%s) = %s', (key, expected) => {
    expect(keyNamesPassword(key)).toBe(expected);
  });

  it.each([
    ['client_secret', 'secret'],
    ['SECRET_KEY_BASE', 'secret'],
    ['api_key', 'token'],
    ['X-Api-Key', 'token'],
    ['refresh_token', 'token'],
    ['STRIPE_KEY', 'token'],
    ['secret_id', 'secret'],
    ['max_tokens', null],
    ['token_type', null],
    ['next_page_token', null],
    ['public_key', null],
    ['api_key_id', null],
    ['secret_name', null],
    ['primary_key', null],
    ['Authorization', null],
  ])('keyNamesSecret(%s) = %s', (key, expected) => {
    expect(keyNamesSecret(key)).toBe(expected);
  });

  it('finds the value after a prose key in several phrasings', () => {
    expect(proseCandidates(' is Hunter2!x').map((c) => c.value)).toContain('Hunter2!x');
    expect(proseCandidates(' for the staging db is Hunter2!x').map((c) => c.value)).toContain('Hunter2!x');
    expect(proseCandidates(' für den Server lautet Hunter2!x').map((c) => c.value)).toContain('Hunter2!x');
    expect(proseCandidates(' for admin@example.org: Hunter2!x').map((c) => c.value)).toContain('Hunter2!x');
    expect(proseCandidates("是Hunter2!x").map((c) => c.value)).toContain('Hunter2!x');
    expect(proseCandidates(" is 'correct horse battery staple'").map((c) => c.value)).toContain('correct horse battery staple');
  });
});

describe('structured tokens', () => {
  it('JWT: header must decode to JSON with alg/typ', () => {
    expect(jwtValid(f.jwt())).toBe(true);
    expect(jwtValid('eyJzdWIiOiIxIn0.eyJzdWIiOiIxIn0.abc')).toBe(false); // header without alg/typ/kid
    expect(jwtValid('eyJub3QganNvbg.eyJ4IjoxfQ.sig')).toBe(false);
  });

  it('Basic credentials: base64 of user:password with a real password', () => {
    expect(basicCredentialsValid(Buffer.from('admin:Hunter2!').toString('base64'))).toBe(true);
    expect(basicCredentialsValid(Buffer.from('admin:${PASSWORD}').toString('base64'))).toBe(false);
    expect(basicCredentialsValid(Buffer.from('no colon here').toString('base64'))).toBe(false);
    expect(basicCredentialsValid('auth')).toBe(false);
  });

  it('Discord: the first segment is a base64 snowflake', () => {
    expect(discordTokenValid(f.discordBot())).toBe(true);
    expect(discordTokenValid(`${Buffer.from('not-a-number-id').toString('base64url')}.abcdef.${'x'.repeat(30)}`)).toBe(false);
  });

  it('Azure SAS: a percent-encoded 32-byte signature', () => {
    expect(sasSignatureValid(f.azureSasSig())).toBe(true);
    expect(sasSignatureValid(encodeURIComponent(f.b64(20)))).toBe(false);
    expect(sasSignatureValid('%E0%A4%A')).toBe(false);
  });

  it('decodeBase64Text keeps text and drops binary', () => {
    expect(decodeBase64Text(Buffer.from('user:pass word').toString('base64'))).toBe('user:pass word');
    expect(decodeBase64Text(f.b64(64))).toBeNull();
    expect(decodeBase64Text('not base64!')).toBeNull();
  });
});
