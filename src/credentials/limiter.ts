/**
 * Runs at most `slots` tasks at once and shares the slots between clients in turn: each client has at
 * most one task waiting here (its own further checks wait in its own line, see `LoginThrottle`), and
 * the waiting clients are served in the order they joined, so a new client waits behind at most one
 * task per other client. scrypt takes 32 MiB and a third of a second per check: without a cap, a
 * flood of guesses would exhaust memory and delay everyone; first come first served would let a
 * flood fill the queue ahead of the rightful user. Cached logins never come here.
 */
export class FairScheduler {
  private running = 0
  /** The next task of each waiting client; a Map iterates in insertion order, which is the turn order. */
  private readonly waiting = new Map<string, () => Promise<void>>()

  constructor(readonly slots = 2) {}

  /** Queues the client's next task, behind every client already waiting; one per client at a time. */
  enqueue(client: string, task: () => Promise<void>): void {
    if (this.waiting.has(client)) throw new Error(`${client} already has a task waiting`)
    this.waiting.set(client, task)
    this.startWaiting()
  }

  /** Drops the client's waiting task (never a running one); true when there was one. */
  withdraw(client: string): boolean {
    return this.waiting.delete(client)
  }

  private startWaiting(): void {
    while (this.running < this.slots) {
      const next = this.waiting.entries().next()
      if (next.done) return
      const [client, task] = next.value
      this.waiting.delete(client)
      this.running++
      void task().finally(() => {
        this.running--
        this.startWaiting()
      })
    }
  }
}
