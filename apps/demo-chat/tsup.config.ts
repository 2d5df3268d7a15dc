import { perfTsupConfig } from '../../tsup.config.base.js';

// An application, not a library: ESM entries, no declarations.
export default perfTsupConfig({
  entry: ['src/main.ts', 'src/showcase.ts', 'src/load/cli.ts'],
  format: ['esm'],
  dts: false,
});
