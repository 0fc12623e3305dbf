import type { ProjectionStatus } from '@eskit/core'

/**
 * What one node of a cluster last published (see `createNodeRegistry` of
 * `@eskit/postgres-event-store`, which is one).
 *
 * @example
 * ```ts
 * const snapshot: NodeSnapshot = { nodeId: 'node-a', ageMs: 800, projections: collector.status() }
 * ```
 */
export interface NodeSnapshot {
  readonly nodeId: string
  /** Milliseconds since the node last published. */
  readonly ageMs: number
  readonly projections: readonly ProjectionStatus[]
}

/**
 * The nodes that run the same projections on one shared event log, for `createDashboard({ nodes })`:
 * the page then lists every node's projections side by side, and nodes not seen for a while as gone.
 *
 * @example
 * ```ts
 * import { createNodeRegistry } from '@eskit/postgres-event-store'
 * const nodes: NodeDirectory = createNodeRegistry({ pool, nodeId: 'node-a' })
 * ```
 */
export interface NodeDirectory {
  list(): Promise<readonly NodeSnapshot[]>
}

/**
 * One node as the page shows it (`nodes` of `/api/state`).
 *
 * @example
 * ```ts
 * const behind = state.nodes.filter((node: NodeView) => !node.gone && node.projections.some((p) => p.lag > 0))
 * ```
 */
export interface NodeView {
  readonly nodeId: string
  readonly ageMs: number
  /** Not seen for longer than `goneAfterMs`. */
  readonly gone: boolean
  readonly projections: ReadonlyArray<Pick<ProjectionStatus, 'name' | 'state' | 'position' | 'lag'>>
}

export function nodeViewOf(node: NodeSnapshot, goneAfterMs: number): NodeView {
  return {
    nodeId: node.nodeId,
    ageMs: node.ageMs,
    gone: node.ageMs > goneAfterMs,
    projections: node.projections.map(({ name, state, position, lag }) => ({ name, state, position, lag })),
  }
}
