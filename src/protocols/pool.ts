/**
 * A pool of preprocessed material (triples, masks, daBits…) shared by every scheme's session.
 * `take` reserves its slice synchronously, so operations issued in the same program order at every
 * party consume the same material even when they run concurrently. A batch that cannot serve a
 * request is replaced by a fresh one (its tail is dropped, identically at every party).
 */
export class Pool<T> {
  #batch: Promise<T> | null = null;
  #size = 0;
  #used = 0;
  /** A batch generated ahead (`prefetch`), switched to when the current one runs short. */
  #next: { batch: Promise<T>; size: number } | null = null;
  /** Items generated so far (offline work), for reporting. */
  generated = 0;
  /** Items handed out so far (each take rounded up to `align`): what the consumers actually used. */
  taken = 0;
  /**
   * @param gen generates a batch of n items (an interactive protocol, the offline phase)
   * @param slice items [start, end) of a batch
   * @param align slices start on multiples of this (e.g. 32 for bit-sliced material)
   * @param minBatch smallest batch generated
   * @param empty the value for a request of 0 items (default: a zero-length slice of a batch)
   */
  constructor(
    private readonly gen: (n: number) => Promise<T>,
    private readonly slice: (t: T, start: number, end: number) => T,
    private readonly align = 1,
    private readonly minBatch = 1,
    private readonly empty?: () => T,
  ) {}

  #refill(n: number): void {
    const next = this.#next;
    if (next && next.size >= n) {
      // the batch generated ahead serves it (the current batch's tail is dropped, as on a refill)
      this.#next = null;
      this.#batch = next.batch;
      this.#size = next.size;
      this.#used = 0;
      return;
    }
    const size = Math.max(n, this.minBatch);
    const b = this.gen(size);
    b.catch(() => {}); // consumers await their own slices; this keeps a failure from being unhandled
    this.#batch = b;
    this.#size = size;
    this.#used = 0;
    this.generated += size;
  }

  /**
   * Start generating the next batch (n items) now, without waiting for it and without touching the
   * current one: its rounds then overlap the online work that still draws on the current batch. It
   * serves the first request the current batch cannot (if it is large enough). One at a time.
   */
  prefetch(n: number): void {
    if (n <= 0 || this.#next) return;
    const size = Math.max(n, this.minBatch);
    const b = this.gen(size);
    b.catch(() => {});
    this.#next = { batch: b, size };
    this.generated += size;
  }

  /** Make sure n unused items are ready (the offline phase). */
  async ensure(n: number): Promise<void> {
    if (n <= 0) return;
    if (!this.#batch || this.#size - this.#used < n) this.#refill(n);
    await this.#batch;
  }

  take(n: number): Promise<T> {
    if (n <= 0 && this.empty) return Promise.resolve(this.empty());
    if (!this.#batch || this.#size - this.#used < n) this.#refill(n);
    const start = this.#used;
    const k = Math.ceil(n / this.align) * this.align;
    this.#used += k;
    this.taken += k;
    return this.#batch!.then((t) => this.slice(t, start, start + n));
  }
}
