export type * from './task.js';
