import {describe, expect, it} from 'vitest'

import {FairScheduler} from '../../src/credentials/limiter.js'

const settle = () => new Promise((resolve) => setImmediate(resolve))

/** A scheduler whose tasks record the order they start in and run until the test finishes them. */
function recordingScheduler(slots: number, clock = {now: 0}) {
  const scheduler = new FairScheduler({slots, longestWaitMs: 30_000, now: () => clock.now})
  const started: string[] = []
  const running = new Map<string, () => void>()
  const failures = new Map<string, number>()
  return {
    scheduler,
    started,
    failures,
    /** Queues `client`'s task; its failures are read from `failures` whenever the scheduler asks. */
    enqueue(client: string, count = 0) {
      failures.set(client, count)
      scheduler.enqueue(
        client,
        () => failures.get(client)!,
        () =>
          new Promise<void>((resolve) => {
            started.push(client)
            running.set(client, resolve)
          }),
      )
    },
    async finish(client: string) {
      running.get(client)!()
      await settle()
    },
  }
}

describe('FairScheduler', () => {
  it('runs at most `slots` tasks at once, one waiting per client', async () => {
    const {started, enqueue, finish} = recordingScheduler(2)
    for (const client of ['a', 'b', 'c', 'd']) enqueue(client)
    expect(started).toEqual(['a', 'b'])
    expect(() => enqueue('c')).toThrow('c already has a task waiting')
    await finish('b')
    expect(started).toEqual(['a', 'b', 'c'])
  })

  it('starts a client that has never failed before clients with failures that came before it', async () => {
    const {started, enqueue, finish} = recordingScheduler(1)
    enqueue('running')
    enqueue('guesser 1', 7)
    enqueue('guesser 2', 3)
    enqueue('newcomer', 0)
    for (const client of ['running', 'newcomer', 'guesser 2']) await finish(client)
    expect(started).toEqual(['running', 'newcomer', 'guesser 2', 'guesser 1'])
  })

  it('starts a client that failed once before those with more, and clients with as many in the order they came', async () => {
    const {started, enqueue, finish} = recordingScheduler(1)
    enqueue('running')
    enqueue('guesser', 5)
    enqueue('first with one', 1)
    enqueue('second with one', 1)
    enqueue('third with one', 1)
    for (const client of ['running', 'first with one', 'second with one', 'third with one'])
      await finish(client)
    expect(started).toEqual(['running', 'first with one', 'second with one', 'third with one', 'guesser'])
  })

  it('orders by the failures as they stand when a slot frees, not when the client came', async () => {
    const {started, failures, enqueue, finish} = recordingScheduler(1)
    enqueue('running')
    enqueue('came first', 0)
    enqueue('came second', 1)
    failures.set('came first', 2)
    await finish('running')
    expect(started).toEqual(['running', 'came second'])
    failures.set('came first', 0)
    enqueue('came third', 0)
    await finish('came second')
    expect(started).toEqual(['running', 'came second', 'came first'])
  })

  it('drops a withdrawn client’s waiting task, never a running one, and gives the slot to the next in order', async () => {
    const {started, enqueue, finish, scheduler} = recordingScheduler(1)
    enqueue('running')
    enqueue('guesser', 4)
    enqueue('newcomer', 0)
    expect(scheduler.withdraw('newcomer')).toBe(true)
    expect(scheduler.withdraw('running')).toBe(false)
    expect(scheduler.withdraw('nobody')).toBe(false)
    await finish('running')
    expect(started).toEqual(['running', 'guesser'])
  })

  it('starts a client that has waited the longest wait next, whatever its failures, so fresh addresses cannot keep it out', async () => {
    const clock = {now: 0}
    const {started, enqueue, finish} = recordingScheduler(1, clock)
    enqueue('running')
    enqueue('mistyped once', 1)
    let previous = 'running'
    for (let fresh = 1; fresh <= 3; fresh++) {
      clock.now += 10_000
      enqueue(`fresh ${fresh}`, 0)
      await finish(previous)
      previous = started.at(-1)!
    }
    expect(started).toEqual(['running', 'fresh 1', 'fresh 2', 'mistyped once'])
  })
})
