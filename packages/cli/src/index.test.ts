import { describe, expect, it } from 'vitest'

describe('@eskit/cli entry', () => {
  it('importing the library runs nothing: no signal handler, no exit code, only exports', async () => {
    const sigint = process.listenerCount('SIGINT')
    const exitCode = process.exitCode
    const cli = await import('./index.js')
    expect(process.listenerCount('SIGINT')).toBe(sigint)
    expect(process.exitCode).toBe(exitCode)
    expect(typeof cli.runCli).toBe('function')
    expect(typeof cli.collectStatus).toBe('function')
  })
})
