import { VERSION } from '@perf/tracing';

// The package is scaffolded; setupTracing and correlation ids land in their own issue.
console.log(`@perf/tracing ${VERSION}`);
