import { describe, expect, it } from 'vitest';
import { decodeEntities, percentDecode, stripMarkup, textViews, unescapeOnce } from '../../src/secrets/normalize.ts';

function joined(text: string): string {
  return textViews(text)
    .map((view) => view.text)
    .join('\n---\n');
}

describe('decoders', () => {
  it.each([
    ['a\\nb', 'a\nb'],
    ['\\"x\\"', '"x"'],
    ['\\u0041\\x42\\u{43}', 'ABC'],
    ['\\\\n', '\\n'],
  ])('unescapeOnce(%j) = %j', (input, expected) => {
    expect(unescapeOnce(input)).toBe(expected);
  });

  it.each([
    ['&lt;p&gt;&amp;&quot;&#39;&#x41;&#66;', '<p>&"\'AB'],
    ['&unknown; &#0;', '&unknown; &#0;'],
  ])('decodeEntities(%j) = %j', (input, expected) => {
    expect(decodeEntities(input)).toBe(expected);
  });

  it.each([
    ['p%40ss%2Fword', 'p@ss/word'],
    ['%E2%82%AC', '€'],
    ['%DB_PASS%', '%DB_PASS%'],
    ['a%13b', 'a%13b'],
  ])('percentDecode(%j) = %j', (input, expected) => {
    expect(percentDecode(input)).toBe(expected);
  });

  it('stripMarkup joins inline tags and spaces block tags', () => {
    expect(stripMarkup('<p>The password is <b>Hunter2!</b></p>')).toBe(' The password is Hunter2! ');
    expect(stripMarkup('ghp_abc<wbr>def')).toBe('ghp_abcdef');
    expect(stripMarkup('<td>password</td><td>x</td>')).toBe(' password  x ');
  });
});

describe('textViews', () => {
  it('always starts with the raw text', () => {
    expect(textViews('plain text')).toEqual([{ source: 'raw', text: 'plain text' }]);
  });

  it('decodes JSON nested in JSON strings, one level per view', () => {
    const inner = JSON.stringify({ password: 'S3cret!x' });
    const outer = JSON.stringify({ body: JSON.stringify({ payload: inner }) });
    expect(joined(outer)).toContain('{"password":"S3cret!x"}');
  });

  it('decodes entities in XMPP stanzas, including double-encoded ones', () => {
    expect(joined('<message><body>token&#61;abc&amp;#61;def</body></message>')).toContain('token=abc=def');
    expect(joined('<body>&lt;password&gt;x&lt;/password&gt;</body>')).toContain('<password>x</password>');
  });

  it('leaves plain "&amp;" stanzas alone (nothing to gain, and it keeps big payloads fast)', () => {
    expect(textViews('<message><body>salt &amp; pepper</body></message>')).toHaveLength(1);
  });

  it('percent-decodes, and decodes base64 under secret-like keys and in Kubernetes Secrets', () => {
    expect(joined('note=key%3Dsk-ant-abc')).toContain('key=sk-ant-abc');
    const k8s = `kind: Secret\ndata:\n  DB_URL: ${Buffer.from('postgres://a:b@c/d').toString('base64')}\n`;
    expect(joined(k8s)).toContain('DB_URL: postgres://a:b@c/d');
    expect(joined(`"auth": "${Buffer.from('user:Hunter2!').toString('base64')}"`)).toContain('auth: user:Hunter2!');
    // Not under a secret-like key and not a Secret: left alone.
    expect(textViews(`"greeting": "${Buffer.from('hello there, friend').toString('base64')}"`)).toHaveLength(1);
  });

  it('joins a token split by an escaped newline or a line continuation', () => {
    expect(joined('TOKEN=abcdef\\nghijkl')).toContain('TOKEN=abcdefghijkl');
    expect(joined('export TOKEN=abcdef\\\n  ghijkl')).toContain('TOKEN=abcdefghijkl');
  });

  it('decodes quoted-printable mail bodies and MIME base64 parts', () => {
    expect(joined('Content-Transfer-Encoding: quoted-printable\n\nkey=3Dabc=\ndef')).toContain('key=abcdef');
    const mime = `Content-Transfer-Encoding: base64\n\n${Buffer.from('the password is Hunter2!').toString('base64')}\n`;
    expect(joined(mime)).toContain('the password is Hunter2!');
  });

  it('removes invisible characters and folds full-width ones', () => {
    expect(joined('ghp_abc\u200bdef')).toContain('ghp_abcdef');
    expect(joined('ｐａｓｓｗｏｒｄ=x')).toContain('password=x');
  });

  it('is bounded: depth and total derived size', () => {
    let nested = 'x';
    for (let i = 0; i < 12; i++) nested = JSON.stringify({ v: nested });
    const views = textViews(nested, { maxDepth: 3, maxDerivedChars: 1_000_000 });
    expect(views.length).toBeLessThanOrEqual(1 + 3 * 7);
    const big = '&#65;'.repeat(100_000);
    const limited = textViews(big, { maxDepth: 4, maxDerivedChars: 1000 });
    expect(limited.reduce((sum, view) => sum + (view.source === 'raw' ? 0 : view.text.length), 0)).toBeLessThanOrEqual(1000);
  });
});
