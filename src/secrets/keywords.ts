/**
 * The fast pre-filter: one pass over the text finds every rule keyword (case-insensitive) with an
 * Aho–Corasick automaton compiled to a dense table. Rules only run their regular expressions in
 * windows around their keywords' hits, so most of a large payload is never touched by a regex.
 * Work is linear in the text length plus the number of hits.
 */

export class KeywordIndex {
  readonly keywords: readonly string[];
  /** UTF-16 code unit -> alphabet class (0 = a character no keyword contains). */
  private readonly classOf: Uint16Array;
  private readonly width: number;
  /**
   * The scan table: code[state * width + class] = (next * width) << 1 | (keyword ends in next), so
   * the hot loop is one load, one shift and one add per character.
   */
  private readonly code: Int32Array;
  /** For a state: keyword ids ending there, as [outStart[state], outStart[state + 1]) into outList. */
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const classOf = new Uint16Array(65536);
    let classes = 1;
    const classFor = (unit: number): number => {
      if (classOf[unit] === 0) classOf[unit] = classes++;
      return classOf[unit]!;
    };
    // Case-fold: upper and lower forms of every keyword character share one class.
    for (const keyword of keywords) {
      for (const ch of keyword) {
        if (ch.length !== 1) continue; // keywords stay in the BMP
        const lower = ch.toLowerCase();
        const upper = ch.toUpperCase();
        const cls = classFor(lower.length === 1 ? lower.charCodeAt(0) : ch.charCodeAt(0));
        if (lower.length === 1) classOf[lower.charCodeAt(0)] = cls;
        if (upper.length === 1) classOf[upper.charCodeAt(0)] = cls;
        classOf[ch.charCodeAt(0)] = cls;
      }
    }
    this.classOf = classOf;
    const width = classes;
    this.width = width;

    // Trie, as a dense goto table (-1 = no edge); at most one state per keyword character.
    const maxStates = keywords.reduce((sum, keyword) => sum + keyword.length, 1);
    const delta = new Int32Array(maxStates * width).fill(-1);
    const outputs: number[][] = [[]];
    let states = 1;
    keywords.forEach((keyword, id) => {
      let state = 0;
      for (let i = 0; i < keyword.length; i++) {
        const slot = state * width + classOf[keyword.charCodeAt(i)]!;
        if (delta[slot] === -1) {
          delta[slot] = states++;
          outputs.push([]);
        }
        state = delta[slot]!;
      }
      outputs[state]!.push(id);
    });

    // Failure links (BFS) folded into the table, which becomes a complete automaton.
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 0; cls < width; cls++) {
      const target = delta[cls]!;
      if (target === -1) delta[cls] = 0;
      else queue.push(target);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      outputs[state]!.push(...outputs[fail[state]!]!);
      const row = state * width;
      const failRow = fail[state]! * width;
      for (let cls = 0; cls < width; cls++) {
        const target = delta[row + cls]!;
        if (target === -1) {
          delta[row + cls] = delta[failRow + cls]!;
        } else {
          fail[target] = delta[failRow + cls]!;
          queue.push(target);
        }
      }
    }
    const outStart = new Int32Array(states + 1);
    const hasOutput = new Uint8Array(states);
    const flat: number[] = [];
    for (let s = 0; s < states; s++) {
      outStart[s] = flat.length;
      flat.push(...new Set(outputs[s]!));
      hasOutput[s] = flat.length > outStart[s]! ? 1 : 0;
    }
    outStart[states] = flat.length;
    const code = new Int32Array(states * width);
    for (let i = 0; i < code.length; i++) code[i] = ((delta[i]! * width) << 1) | hasOutput[delta[i]!]!;
    this.code = code;
    this.outStart = outStart;
    this.outList = Int32Array.from(flat);
  }

  /** Calls onHit(keywordId, startIndex) for every occurrence of every keyword. */
  scan(text: string, onHit: (keywordId: number, start: number) => void): void {
    const { classOf, code, outStart, outList, width, keywords } = this;
    let base = 0; // state * width
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const v = code[base + classOf[text.charCodeAt(i)]!]!;
      base = v >> 1;
      if ((v & 1) === 1) {
        const state = base / width;
        const to = outStart[state + 1]!;
        for (let k = outStart[state]!; k < to; k++) {
          const id = outList[k]!;
          onHit(id, i + 1 - keywords[id]!.length);
        }
      }
    }
  }
}
