/** A client's task waiting for a slot, with what orders it. */
interface Waiting {
  /** The client's failed logins as of now: read each time a slot frees, since it can rise while the task waits. */
  failures: () => number
  task: () => Promise<void>
  /** When it joined (the scheduler's clock). */
  since: number
}

export interface SchedulerOptions {
  slots: number
  /**
   * A client waiting this long goes next whatever its failures: fresh addresses that never failed
   * (a guesser rotating through its IPv6 /48) would otherwise keep a user who mistyped once waiting
   * for as long as they keep coming. 30 s is about what a full queue took in plain turns before.
   */
  longestWaitMs: number
  now: () => number
}

export const defaultScheduling: SchedulerOptions = {slots: 2, longestWaitMs: 30_000, now: Date.now}

/**
 * Runs at most `slots` tasks at once and gives each free slot to the waiting client with the fewest
 * failed logins, and among those to the one that joined first. Each client has at most one task
 * waiting here (its own further checks wait in its own line, see `LoginThrottle`). scrypt takes
 * 32 MiB and a third of a second of CPU per check: without a cap, a flood of guesses would exhaust
 * memory and delay everyone; first come first served would let a flood fill the queue ahead of the
 * rightful user, and plain turns would still make a first login wait for one check per guessing
 * address. Fewest failures first, so a client that has never failed waits only for the checks running
 * and for clients that have not failed either and came before it (one check each at most), and a user
 * who mistyped once goes before guessers with more. Failures are read when a slot frees, not when a
 * client joined: a guesser's count rises while it waits. Within a level the order is arrival, not
 * last come first served: a guesser with a fresh address for every guess would then always go first
 * and could keep a first login waiting for ever, while in arrival order only the checks that came
 * before it go first. A client that has waited `longestWaitMs` goes next whatever its failures, so
 * no one waits for ever. Cached logins never come here.
 */
export class FairScheduler {
  private running = 0
  /** The next task of each waiting client; a Map iterates in insertion order, which is the arrival order. */
  private readonly waiting = new Map<string, Waiting>()

  private readonly options: SchedulerOptions

  constructor(options: Partial<SchedulerOptions> = {}) {
    this.options = {...defaultScheduling, ...options}
  }

  /** Queues the client's next task, ordered by `failures` when a slot frees; one per client at a time. */
  enqueue(client: string, failures: () => number, task: () => Promise<void>): void {
    if (this.waiting.has(client)) throw new Error(`${client} already has a task waiting`)
    this.waiting.set(client, {failures, task, since: this.options.now()})
    this.startWaiting()
  }

  /** Drops the client's waiting task (never a running one); true when there was one. */
  withdraw(client: string): boolean {
    return this.waiting.delete(client)
  }

  private startWaiting(): void {
    while (this.running < this.options.slots) {
      const client = this.next()
      if (client === undefined) return
      const {task} = this.waiting.get(client)!
      this.waiting.delete(client)
      this.running++
      void task().finally(() => {
        this.running--
        this.startWaiting()
      })
    }
  }

  /**
   * The client that has waited `longestWaitMs`, if one has (the first in arrival order), else the one
   * with the fewest failures, the earliest among equals: a scan, as its owner bounds the clients waiting.
   */
  private next(): string | undefined {
    const first = this.waiting.entries().next()
    if (first.done) return undefined
    const [earliest, {since}] = first.value
    if (this.options.now() - since >= this.options.longestWaitMs) return earliest
    let chosen: string | undefined
    let fewest = Infinity
    for (const [client, {failures}] of this.waiting) {
      const count = failures()
      if (count < fewest) [chosen, fewest] = [client, count]
      if (fewest === 0) break
    }
    return chosen
  }
}
