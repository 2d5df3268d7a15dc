import { perfTsupConfig } from '../../tsup.config.base.js';

// shims: the CJS build gets a working `import.meta.url` (peers.ts resolves the optional peers from it).
export default perfTsupConfig({ shims: true });
