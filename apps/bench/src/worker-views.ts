import type { Projection } from '@eskit/core'
import { recommendedView } from './views.ts'

// The ten copies of the reference view that case 11 builds, as named exports: a build worker
// thread imports this module by URL and takes each view from its export.
const worker = (name: string): Projection<any> =>
  recommendedView(name, 'passes', { module: import.meta.url, export: name })

export const passes_0 = worker('passes_0')
export const passes_1 = worker('passes_1')
export const passes_2 = worker('passes_2')
export const passes_3 = worker('passes_3')
export const passes_4 = worker('passes_4')
export const passes_5 = worker('passes_5')
export const passes_6 = worker('passes_6')
export const passes_7 = worker('passes_7')
export const passes_8 = worker('passes_8')
export const passes_9 = worker('passes_9')

/** The first `count` (at most ten) of them. */
export const workerViews = (count: number): Projection<any>[] =>
  [passes_0, passes_1, passes_2, passes_3, passes_4, passes_5, passes_6, passes_7, passes_8, passes_9].slice(
    0,
    count,
  )
