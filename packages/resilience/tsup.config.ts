import { perfTsupConfig } from '../../tsup.config.base.js';

export default perfTsupConfig();
