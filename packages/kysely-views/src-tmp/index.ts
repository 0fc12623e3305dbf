export { BoundQuery, type StatementDefinition } from './bound-query.ts'
export { createReader, type ReaderSource } from './create-reader.ts'
export {
  defineStatements,
  type NoParams,
  type Params,
  type ParamValue,
  type PreparedStatement,
  type StatementFactory,
  type Statements,
} from './define-statements.ts'
export {
  defineView,
  type HandlerResult,
  type View,
  type ViewDefinition,
  type ViewEvent,
  type ViewHandlers,
  type ViewMigration,
} from './define-view.ts'
export { type SqliteConnection, type SqliteStatement, toSqliteValue } from './sqlite-connection.ts'
export type { QueryOutput, ViewQuery } from './view-query.ts'
export type { ViewTransaction } from './view-transaction.ts'
