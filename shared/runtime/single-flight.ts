/**
 * Identical calls in flight in one process share the first call's work: 50
 * concurrent creates of one snapshot make one call to Ceph, and exactly one
 * caller learns that it was theirs that made the change.
 */
export class SingleFlight<T> {
  private readonly pending = new Map<string, Promise<T>>();

  /** Runs work, or joins the call of the same key already running; joined says which. */
  async run(key: string, work: () => Promise<T>): Promise<{ value: T; joined: boolean }> {
    const pending = this.pending.get(key);
    if (pending) return { value: await pending, joined: true };
    const started = work();
    this.pending.set(key, started);
    try {
      return { value: await started, joined: false };
    } finally {
      this.pending.delete(key);
    }
  }
}
