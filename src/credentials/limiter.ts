/** Thrown when more verifications wait than the queue holds: the server answers 503 and counts no failure. */
export class VerifierBusyError extends Error {
  constructor() {
    super('Too many credential checks are waiting.')
    this.name = 'VerifierBusyError'
  }
}

/**
 * Runs at most `maxConcurrent` tasks at once with at most `maxQueued` waiting. scrypt takes 32 MiB
 * and a third of a second per check: without a cap, a flood of guesses from many addresses would
 * exhaust memory and delay everyone. Cached logins never come here, so they are not slowed.
 */
export class ConcurrencyLimiter {
  private running = 0
  private readonly queue: (() => void)[] = []

  constructor(
    readonly maxConcurrent = 2,
    readonly maxQueued = 32,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.queue.length >= this.maxQueued) throw new VerifierBusyError()
      await new Promise<void>((resolve) => this.queue.push(resolve))
    } else {
      this.running++
    }
    try {
      return await task()
    } finally {
      const next = this.queue.shift()
      if (next) next()
      else this.running--
    }
  }
}
