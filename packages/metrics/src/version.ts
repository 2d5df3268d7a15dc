/** Version of this package, kept in step with package.json by the smoke test. */
export const VERSION = '0.1.0';
