export { isPerfConfigError } from '@perf/core';
export * from '../src/index.js';
