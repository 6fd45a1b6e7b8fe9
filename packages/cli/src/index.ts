export * from './main.js';
export * from './command.js';
export { commands } from './commands/index.js';
