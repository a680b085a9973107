/**
 * At most `limit` tasks at once; the rest wait in order. The TokenService runs its token reads
 * and refresh transactions through one, sized below the connection pool: a refresh holds its
 * connection while Google answers, and in a storm the waiting must happen here (no deadline)
 * rather than in pg-pool's queue, which fails a wait after 5 s, and must leave connections for
 * every other call.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  // a finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(task) {
      if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
      else active += 1;
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
