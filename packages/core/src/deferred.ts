/** A promise with its resolve and reject, for a caller that waits on work done elsewhere. */
export interface Deferred {
  readonly promise: Promise<void>
  resolve(): void
  reject(error: Error): void
}

export function createDeferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
