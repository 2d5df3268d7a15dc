/** Version of this package: `pnpm version-packages` rewrites it from package.json, `pnpm lint` checks it. */
export const VERSION = '0.1.0';
