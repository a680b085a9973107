/**
 * Group-commit batching for a whole fetcher instance: while one batch's statement runs, what
 * callers ask meanwhile waits and then goes together in the next statement. With nothing in
 * flight a call starts at once, so nobody waits longer than the statement in flight plus their
 * own; under load many pages share one round trip (a socket write on each side, a wake-up of a
 * Postgres backend) instead of one each.
 *
 * Each caller's promise settles with the batch that held its input: a failure fails every caller
 * in it, as its own statement would have.
 */
export interface CoalesceOptions<In, Out> {
  /** Runs one batch: the inputs of whole callers, in the order they called. */
  run(batch: In[]): Promise<Out>;
  /** An input's weight (rows it adds to a statement), and the most a batch holds (at least one caller). */
  weight(input: In): number;
  maxWeight: number;
}

interface Waiting<In, Out> {
  input: In;
  resolve(out: Out): void;
  reject(err: unknown): void;
}

export function coalesce<In, Out>(options: CoalesceOptions<In, Out>): (input: In) => Promise<Out> {
  let queue: Waiting<In, Out>[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = takeBatch();
        try {
          const out = await options.run(batch.map((w) => w.input));
          for (const w of batch) w.resolve(out);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  function takeBatch(): Waiting<In, Out>[] {
    let n = 0;
    let weight = 0;
    while (n < queue.length && (n === 0 || weight + options.weight(queue[n]!.input) <= options.maxWeight))
      weight += options.weight(queue[n++]!.input);
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  }

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!running) void drain();
    });
}
