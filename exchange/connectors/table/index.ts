// The table connector: resources served from the exchange's own tables (前置库), loaded from supplier extracts.
export { TableConnector } from './table-connector.js';
