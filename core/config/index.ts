export { settings, LOG_LEVELS, type Config, type LogLevel, type SettingName, type SettingSpec } from './schema.js';
export { loadConfig, parseDatabaseUrl, redactUrl, type LoadConfigOptions } from './load.js';
