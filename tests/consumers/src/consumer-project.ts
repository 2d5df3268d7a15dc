import { readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConsumerManifest {
  dependencies: Record<string, string>;
  overrides?: Record<string, string>;
  pnpm?: Record<string, unknown>;
}

/** Writes a private ESM consumer project's package.json. */
export function writeConsumerProject(dir: string, manifest: ConsumerManifest): void {
  const full = { name: 'perf-consumer', version: '1.0.0', private: true, type: 'module', ...manifest };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(full, null, 2)}\n`);
}

/**
 * Every package installed under `dir/node_modules`, any depth and any layout (npm's hoisted tree,
 * nested copies, pnpm's `.pnpm/<id>/node_modules/<name>` store), mapped to the distinct real folders
 * that hold a copy of it.
 */
export function installedPackages(dir: string): Map<string, string[]> {
  const copies = new Map<string, Set<string>>();
  const visited = new Set<string>();
  const list = (folder: string): string[] => {
    try {
      return readdirSync(folder);
    } catch {
      return [];
    }
  };
  const walk = (nodeModules: string): void => {
    for (const entry of list(nodeModules)) {
      if (entry.startsWith('.') && entry !== '.pnpm') continue; // .bin, .package-lock.json, .modules.yaml
      if (entry === '.pnpm') {
        for (const stored of list(join(nodeModules, entry)))
          walk(join(nodeModules, entry, stored, 'node_modules'));
        continue;
      }
      const names = entry.startsWith('@')
        ? list(join(nodeModules, entry)).map((n) => `${entry}/${n}`)
        : [entry];
      for (const name of names) {
        let real: string;
        try {
          real = realpathSync(join(nodeModules, name));
        } catch {
          continue; // a dangling link
        }
        if (visited.has(real)) continue;
        visited.add(real);
        const set = copies.get(name) ?? new Set<string>();
        copies.set(name, set.add(real));
        walk(join(real, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return new Map([...copies].map(([name, set]) => [name, [...set]]));
}
