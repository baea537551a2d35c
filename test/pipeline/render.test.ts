/**
 * The output writer (src/cli/output.ts): YAML that reads back exactly what was printed, for the
 * send contract and for hostile strings (YAML keywords, numbers, indicators, comments, control and
 * line-separator characters, unicode), checked with the `yaml` package as a YAML 1.2 and 1.1 reader.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from '../../src/cli/output.ts';
import { emptyOutput } from '../../src/contract.ts';

const roundTrip = (value: unknown) => {
  const text = render(value, 'yaml');
  expect(parse(text), text).toEqual(JSON.parse(JSON.stringify(value)));
  expect(parse(text, { version: '1.1' }), text).toEqual(JSON.parse(JSON.stringify(value)));
  return text;
};

const NASTY = [
  '', ' ', 'null', 'Null', 'NULL', '~', 'true', 'False', 'yes', 'No', 'on', 'OFF', 'y', 'n', '0', '-1', '+1', '1.5', '.5', '1e3', '0x1F', '0o17', '017', '.inf', '-.inf', '.nan',
  '1:20', '2026-01-01', '2026-11-21T10:56:01.219Z', '- item', '-', '?', ':', 'a:', 'a: b', 'a:b', 'http://x.example/a?b=c#d', '#comment', 'a #b', 'a#b', '&anchor', '*alias', '!tag', '|', '>', "'quoted'", '"quoted"',
  '%directive', '@at', '`tick`', '[1]', '{a: 1}', 'a, b', 'trailing ', ' leading', 'tab\there', 'line\nbreak', 'cr\rlf', 'nel\u0085x', 'ls\u2028ps\u2029', 'bom\ufeff', 'del\u007f', 'c1\u0090',
  'bell\u0007', 'nul\u0000', 'é accent', '日本語', 'emoji 🎉', 'lone \ud800 surrogate', '\\back\\slash', '<<', '=', '---', '...', 'key: value # comment', 'Delivered; nothing more to do.',
];

describe('render yaml', () => {
  it('the send contract reads back exactly, keys in order, plain where it is safe', () => {
    const output = emptyOutput();
    output.sent = true;
    output.delivery = { status: 'sent', protocol: 'http', destination: 'https://hooks.example.com/x', response_code: 200, confirmation: 'HTTP 200: {"ok":true}', retry_count: 0, error: null, delivered_at: '2026-11-21T10:56:01.219Z' };
    output.constraints_applied = [
      { code: 'NETWORK_PUBLIC', guard: 'network', result: 'pass', reason: 'hooks.example.com -> 93.184.216.34: public' },
      { code: 'RATE_LIMITED', guard: 'rate_limit', result: 'block', reason: 'x', detail: { retry_after_seconds: 5, nested: { list: [1, 'two', null] } } },
    ];
    output.evidence_anchors = ['http:200', 'url:https://hooks.example.com/x'];
    const text = roundTrip(output);
    expect(text.startsWith('sent: true\ndelivery:\n  status: sent\n  protocol: http\n')).toBe(true);
    expect(text).toContain('\nconstraints_applied:\n  - code: NETWORK_PUBLIC\n    guard: network\n');
    expect(text).toContain('\n    detail:\n      retry_after_seconds: 5\n');
    expect(text).toContain('\nassumptions: []\n');
    expect(text).toContain('  destination: https://hooks.example.com/x\n');
  });

  it('hostile strings read back exactly, as values, keys and list items', () => {
    for (const text of NASTY) {
      roundTrip({ value: text });
      roundTrip([text, { [text || 'empty']: text }]);
      roundTrip({ [text]: [text] });
    }
    roundTrip(NASTY);
  });

  it('random strings over a hostile alphabet read back exactly', () => {
    const alphabet = [...'aZ09 -_:#&*!|>\'"%@`[]{},?~=<.\\/\t\n\r', '\u0000', '\u0085', '\u2028', '\ufeff', 'é', '🎉'];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3_000; i += 1) {
      const length = Math.floor(random() * 8);
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      roundTrip({ k: text, list: [text] });
    }
  });

  it('scalars, empty containers, nesting and top-level lists', () => {
    roundTrip({ a: 0, b: -0.5, c: 1e21, d: true, e: null, f: [], g: {}, h: [[1, [2]], { x: [] }], i: [{}, []] });
    roundTrip([]);
    roundTrip([{ id: 'ap_1', message_preview: 'hello: world' }, { id: 'ap_2' }]);
    roundTrip('just a string');
    expect(render({ a: undefined, b: 1 }, 'yaml')).toBe('b: 1\n');
  });

  it('json is unchanged: two-space JSON and a newline', () => {
    expect(render({ a: [1] }, 'json')).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
