import { perfTsupConfig } from '../../tsup.config.base.js';

// An application, not a library: one ESM entry, no declarations.
export default perfTsupConfig({ format: ['esm'], dts: false });
