export { BoundQuery, type StatementDefinition } from './bound-query.js'
export { createReader, type ReaderSource } from './create-reader.js'
export {
  defineStatements,
  type NoParams,
  type Params,
  type ParamValue,
  type PreparedStatement,
  type StatementFactory,
  type Statements,
} from './define-statements.js'
export {
  defineView,
  type HandlerResult,
  type View,
  type ViewDefinition,
  type ViewEvent,
  type ViewHandlers,
  type ViewMigration,
} from './define-view.js'
export { type SqliteConnection, type SqliteStatement, toSqliteValue } from './sqlite-connection.js'
export type { QueryOutput, ViewQuery } from './view-query.js'
export type { ViewTransaction } from './view-transaction.js'
