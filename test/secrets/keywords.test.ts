import { describe, expect, it } from 'vitest';
import { KeywordIndex } from '../../src/secrets/keywords.ts';
import { Fakes } from '../fixtures/secrets/fakes.ts';

function naive(keywords: readonly string[], text: string): string[] {
  const lower = text.toLowerCase();
  const hits: string[] = [];
  keywords.forEach((keyword, id) => {
    for (let at = lower.indexOf(keyword); at >= 0; at = lower.indexOf(keyword, at + 1)) hits.push(`${id}@${at}`);
  });
  return hits.sort();
}

function found(index: KeywordIndex, text: string): string[] {
  const hits: string[] = [];
  index.scan(text, (id, start) => hits.push(`${id}@${start}`));
  return hits.sort();
}

describe('KeywordIndex (Aho–Corasick)', () => {
  it.each([
    [['he', 'she', 'his', 'hers'], 'ushers and HIS hershe'],
    [['pass', 'password', 'word', 'sword'], 'PassWord swordfish password'],
    [['ghp_', 'gh', 'p_'], 'xghp_ghp_gh'],
    [['mot de passe', 'pass', 'de p'], 'Le mot de passe est secret'],
    [['пароль', 'パスワード', '密码', 'contraseña'], 'Пароль: x, パスワードは y, 密码是 z, CONTRASEÑA w'],
    [['aaa', 'aa', 'a'], 'aaaaa'],
  ])('finds every occurrence of %j in %j, case-insensitively', (keywords, text) => {
    expect(found(new KeywordIndex(keywords), text)).toEqual(naive(keywords, text));
  });

  it('matches the naive search on random text', () => {
    const f = new Fakes(99);
    const keywords = ['ab', 'abc', 'bca', 'c_', 'key', 'token', 'a-b', 'zz'];
    const index = new KeywordIndex(keywords);
    for (let i = 0; i < 50; i++) {
      const text = f.str('abcABCkeytokenz_- ', 400);
      expect(found(index, text)).toEqual(naive(keywords, text));
    }
  });
});
