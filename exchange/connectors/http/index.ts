// The HTTP connector: a supplier's own API as a Connector, behind timeouts, retries and a circuit breaker.
export { HttpConnector, type HttpConnectorOptions } from './http-connector.js';
export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
