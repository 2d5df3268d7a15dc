import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface PublishablePackage {
  name: string;
  version: string;
  dir: string;
}

export interface PackedPackage extends PublishablePackage {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Size of the .tgz on disk, what `npm publish` uploads. */
  packedBytes: number;
}

/** Every non-private package under packages/, in directory order. */
export function publishablePackages(): PublishablePackage[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .map((entry) => join(root, entry))
    .filter((dir) => statSync(join(dir, 'package.json'), { throwIfNoEntry: false })?.isFile())
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
        private?: boolean;
      };
      return { name: manifest.name, version: manifest.version, dir, private: manifest.private === true };
    })
    .filter((pkg) => !pkg.private)
    .map(({ name, version, dir }) => ({ name, version, dir }));
}

/**
 * `pnpm pack` every publishable package into `destination`: the same tarball `pnpm publish` uploads,
 * with `workspace:` ranges rewritten to real ones. Packages must be built first.
 */
export async function packPackages(destination: string): Promise<PackedPackage[]> {
  return Promise.all(
    publishablePackages().map(async (pkg) => {
      const { stdout } = await execFileAsync('pnpm', ['pack', '--pack-destination', destination, '--json'], {
        cwd: pkg.dir,
        maxBuffer: 16 * 1024 * 1024,
      });
      const { filename } = JSON.parse(stdout) as { filename: string };
      return { ...pkg, tarball: filename, packedBytes: statSync(filename).size };
    }),
  );
}
