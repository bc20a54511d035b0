export { createLogger, loggerOptions, REDACT_PATHS, type Logger, type LoggerSettings } from './logger.js';
