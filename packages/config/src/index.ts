export * from './load-config.js';
export * from './chains.js';
export * from './config-error.js';
export * from './exit-status.js';
export * from './units.js';
export * from './move-legacy-data.js';
export * from './run-service.js';
