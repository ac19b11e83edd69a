// A trie over decimal digit strings (E.164 prefixes), stored in flat typed arrays.
//
// Why our own: the hot path is "walk at most 15 digits and remember what hangs off each node", which a
// flat Int32Array trie does with no allocation and no string slicing. A node is 10 child slots
// (0 = no child; node 0 is the root, so 0 is never a valid child) plus one value slot (-1 = none).
// 100,000 realistic prefixes share most of their nodes and need a few MB.

const FANOUT = 10;

export class DigitTrie<T> {
  private children: Int32Array;
  private valueIndex: Int32Array;
  private readonly values: T[] = [];
  private nodeCount = 1;

  constructor(initialNodes = 1024) {
    const n = Math.max(16, initialNodes);
    this.children = new Int32Array(n * FANOUT);
    this.valueIndex = new Int32Array(n).fill(-1);
  }

  /** Number of prefixes holding a value. */
  get size(): number {
    return this.values.length;
  }

  /**
   * Sets the value at `prefix` (digits only). `merge` decides what happens when the prefix already has a
   * value (default: replace).
   */
  set(prefix: string, value: T, merge?: (existing: T, value: T) => T): void {
    if (!/^\d+$/.test(prefix))
      throw new RangeError(`prefix must be digits only, got ${JSON.stringify(prefix)}`);
    let node = 0;
    for (let i = 0; i < prefix.length; i++) {
      const slot = node * FANOUT + (prefix.charCodeAt(i) - 48);
      let next = this.children[slot] ?? 0;
      if (next === 0) {
        next = this.newNode();
        this.children[slot] = next;
      }
      node = next;
    }
    const existing = this.valueIndex[node] ?? -1;
    if (existing >= 0) {
      this.values[existing] = merge ? merge(this.values[existing] as T, value) : value;
    } else {
      this.valueIndex[node] = this.values.length;
      this.values.push(value);
    }
  }

  /** Value stored exactly at `prefix`, if any. */
  get(prefix: string): T | undefined {
    const node = this.walk(prefix, prefix.length);
    if (node < 0) return undefined;
    const vi = this.valueIndex[node] ?? -1;
    return vi >= 0 ? this.values[vi] : undefined;
  }

  /**
   * Longest stored prefix of `digits`: its value and its length, or undefined. Non-digit characters end
   * the walk (so callers may pass "+4477..." after stripping the plus, or raw digits).
   */
  longest(digits: string): { value: T; length: number } | undefined {
    let node = 0;
    let best = -1;
    let bestLen = 0;
    const root = this.valueIndex[0] ?? -1;
    if (root >= 0) best = root;
    for (let i = 0; i < digits.length; i++) {
      const d = digits.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      const next = this.children[node * FANOUT + d] ?? 0;
      if (next === 0) break;
      node = next;
      const vi = this.valueIndex[node] ?? -1;
      if (vi >= 0) {
        best = vi;
        bestLen = i + 1;
      }
    }
    return best >= 0 ? { value: this.values[best] as T, length: bestLen } : undefined;
  }

  /** Calls `visit` for every stored prefix of `digits`, shortest first. */
  forEachPrefixOf(digits: string, visit: (value: T, length: number) => void): void {
    let node = 0;
    const root = this.valueIndex[0] ?? -1;
    if (root >= 0) visit(this.values[root] as T, 0);
    for (let i = 0; i < digits.length; i++) {
      const d = digits.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return;
      const next = this.children[node * FANOUT + d] ?? 0;
      if (next === 0) return;
      node = next;
      const vi = this.valueIndex[node] ?? -1;
      if (vi >= 0) visit(this.values[vi] as T, i + 1);
    }
  }

  /** Shrinks the backing arrays to what is used; call once after building a read-only table. */
  compact(): this {
    this.children = this.children.slice(0, this.nodeCount * FANOUT);
    this.valueIndex = this.valueIndex.slice(0, this.nodeCount);
    return this;
  }

  /** Approximate bytes held by the node arrays (not the values). */
  get nodeBytes(): number {
    return this.children.byteLength + this.valueIndex.byteLength;
  }

  private walk(digits: string, length: number): number {
    let node = 0;
    for (let i = 0; i < length; i++) {
      const d = digits.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return -1;
      const next = this.children[node * FANOUT + d] ?? 0;
      if (next === 0) return -1;
      node = next;
    }
    return node;
  }

  private newNode(): number {
    if (this.nodeCount >= this.valueIndex.length) {
      const cap = this.valueIndex.length * 2;
      const children = new Int32Array(cap * FANOUT);
      children.set(this.children);
      const valueIndex = new Int32Array(cap).fill(-1);
      valueIndex.set(this.valueIndex);
      this.children = children;
      this.valueIndex = valueIndex;
    }
    return this.nodeCount++;
  }
}
