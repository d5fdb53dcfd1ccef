/**
 * Which seqs of each room a client holds, and whether one is missing. A room's seqs are gapless
 * on the server, but each sender's function posts its own message, so n + 1 can arrive before n:
 * a gap is only a question ("wait, then resume"), never proof of loss. No timers here.
 */
export class SequenceGaps {
  readonly #rooms = new Map<string, { contiguous: number; ahead: Set<number> }>();

  /** Records a seq seen for `key`. The first one seen is the baseline: what came before it is history. */
  observe(key: string, seq: number): void {
    const state = this.#rooms.get(key);
    if (!state) {
      this.#rooms.set(key, { contiguous: seq, ahead: new Set() });
      return;
    }
    if (seq <= state.contiguous) return;
    state.ahead.add(seq);
    while (state.ahead.delete(state.contiguous + 1)) state.contiguous++;
  }

  /** Some seq above the contiguous run arrived while one below it has not. */
  hasGap(key: string): boolean {
    return (this.#rooms.get(key)?.ahead.size ?? 0) > 0;
  }

  /** The newest seq up to which nothing is missing (undefined: none seen). */
  contiguous(key: string): number | undefined {
    return this.#rooms.get(key)?.contiguous;
  }

  /** The missing seqs, oldest first. */
  missing(key: string): number[] {
    const state = this.#rooms.get(key);
    if (!state || state.ahead.size === 0) return [];
    const top = Math.max(...state.ahead);
    const result: number[] = [];
    for (let seq = state.contiguous + 1; seq < top; seq++) if (!state.ahead.has(seq)) result.push(seq);
    return result;
  }

  /** Gives up on the current gap (a resume could not fill it: those messages expired) and carries on after it. */
  skipGap(key: string): void {
    const state = this.#rooms.get(key);
    if (!state || state.ahead.size === 0) return;
    state.contiguous = Math.min(...state.ahead);
    state.ahead.delete(state.contiguous);
    while (state.ahead.delete(state.contiguous + 1)) state.contiguous++;
  }

  forget(key: string): void {
    this.#rooms.delete(key);
  }
}
