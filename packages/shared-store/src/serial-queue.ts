/**
 * Runs tasks one at a time, in call order. All projections of a shared store write through one
 * connection, so an async `apply` must never interleave with another projection's transaction.
 * A task that returns synchronously while the queue is idle runs at once, with no await in between
 * (the fast path that keeps synchronous projections close to raw better-sqlite3 speed).
 */
export interface SerialQueue {
  run<T>(task: () => T | PromiseLike<T>): Promise<T>
  /** Resolves when every task queued so far has settled. */
  idle(): Promise<void>
}

/**
 * Creates a {@link SerialQueue}.
 *
 * @example
 * ```ts
 * const queue = createSerialQueue()
 * await queue.run(() => db.exec('begin immediate; ...; commit'))
 * ```
 */
export function createSerialQueue(): SerialQueue {
  let pending = 0
  let tail: Promise<unknown> = Promise.resolve()

  const settle = <T>(promise: Promise<T>): Promise<T> => {
    const done = promise.finally(() => {
      pending--
    })
    tail = done.catch(() => undefined)
    return done
  }

  return {
    run<T>(task: () => T | PromiseLike<T>): Promise<T> {
      pending++
      if (pending === 1) {
        let result: T | PromiseLike<T>
        try {
          result = task()
        } catch (error) {
          pending--
          return Promise.reject(error)
        }
        if (!isPromiseLike(result)) {
          pending--
          return Promise.resolve(result)
        }
        return settle(Promise.resolve(result))
      }
      return settle(tail.then(task))
    },
    idle: () => tail.then(() => undefined),
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
