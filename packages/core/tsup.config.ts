import { perfTsupConfig } from '../../tsup.config.base.js';

// Two entries share one copy of each module (splitting), so `PerfConfigError` thrown through
// `@perf/core/internal` is the class `@perf/core` exports.
export default perfTsupConfig({ entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
