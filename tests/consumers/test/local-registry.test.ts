import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tracingOnMain from '@perf/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishablePackages, repoRoot } from '../../../tooling/pack-packages.js';
import { cleanupAll, cleanupOnExit, duKib, makeTempDir } from '../src/cleanup.js';
import { consumerEnv, runPool } from '../src/consumer-env.js';
import { installedPackages, writeConsumerProject } from '../src/consumer-project.js';
import { type ConsumerSpec, consumerSpecs, tracingPeerPins } from '../src/consumer-specs.js';
import { run } from '../src/exec.js';
import { type LocalRegistry, startLocalRegistry } from '../src/local-registry.js';

/**
 * The release, replayed: every package published to a real registry (verdaccio) the way a release
 * does, then installed one at a time into fresh projects, with npm and with pnpm (strict layout:
 * an undeclared dependency fails there first), as a user would.
 */
const MANAGERS = ['npm', 'pnpm'] as const;
type Manager = (typeof MANAGERS)[number];

const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// What main's @perf/tracing exports decides which tracing checks can run (the published build is this one).
const tracingHasCorrelation = 'withCorrelation' in tracingOnMain && 'correlationId' in tracingOnMain;
const tracingHasSetup = 'setupTracing' in tracingOnMain;

interface Consumer {
  manager: Manager;
  spec: ConsumerSpec;
  dir: string;
  installMs: number;
  nodeModulesKib: number;
}

let registry: LocalRegistry;
let publishMs = 0;
const consumers: Consumer[] = [];
const find = (manager: Manager, name: string): Consumer => {
  const consumer = consumers.find((c) => c.manager === manager && c.spec.name === name);
  if (!consumer) throw new Error(`no ${manager} consumer of ${name}`);
  return consumer;
};

async function install(manager: Manager, dir: string, packages: readonly string[]): Promise<number> {
  const args =
    manager === 'npm'
      ? ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages]
      : ['add', '--reporter=silent', ...packages];
  const { ms } = await run(manager, args, { cwd: dir, env: consumerEnv(), timeoutMs: 240_000 });
  return ms;
}

function newProject(label: string): string {
  const dir = makeTempDir(label);
  writeConsumerProject(dir, { dependencies: {} });
  writeFileSync(join(dir, '.npmrc'), `@perf:registry=${registry.url}\n`);
  return dir;
}

beforeAll(async () => {
  cleanupOnExit();
  registry = await startLocalRegistry(makeTempDir('registry'));

  // Publish like a release: pnpm rewrites `workspace:` ranges in what it uploads.
  const published = await run(
    'pnpm',
    ['publish', '-r', '--filter', './packages/*', '--no-git-checks', '--registry', registry.url],
    {
      cwd: repoRoot,
      env: { ...consumerEnv(), npm_config_userconfig: registry.publishNpmrc },
      timeoutMs: 180_000,
    },
  );
  publishMs = published.ms;

  // One project per (manager, package): the package alone. Three installs at a time: npm and pnpm
  // keep separate, concurrency-safe caches, and installs mostly wait on the network.
  const jobs = MANAGERS.flatMap((manager) =>
    consumerSpecs.map((spec) => async () => {
      const dir = newProject(`${manager}-${spec.name.replace('@perf/', '')}`);
      const installMs = await install(manager, dir, [spec.name]);
      consumers.push({ manager, spec, dir, installMs, nodeModulesKib: duKib(join(dir, 'node_modules')) });
    }),
  );
  await runPool(jobs, 3);
}, 600_000);

afterAll(async () => {
  const rows = consumers
    .sort((a, b) => a.spec.name.localeCompare(b.spec.name) || a.manager.localeCompare(b.manager))
    .map(
      (c) =>
        `  ${c.spec.name.padEnd(17)} ${c.manager.padEnd(4)} ${String(c.nodeModulesKib).padStart(7)} KiB  install ${Math.round(c.installMs)} ms`,
    );
  console.log(
    `publish -r to verdaccio: ${Math.round(publishMs)} ms\nnode_modules (du -sk), each package alone:\n${rows.join('\n')}`,
  );
  await registry?.stop();
  cleanupAll();
});

describe('the published manifests', () => {
  it.each(publishablePackages().map((p) => [p.name, p.version] as const))(
    '%s@%s: real ranges, no workspace: protocol, OTel API only as a peer',
    async (name, version) => {
      const response = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
      expect(response.status).toBe(200);
      const doc = (await response.json()) as {
        versions: Record<string, Record<string, Record<string, string>>>;
      };
      const manifest = doc.versions[version];
      expect(manifest, `${name}@${version} is on the registry`).toBeDefined();
      const text = JSON.stringify(manifest);
      expect(text).not.toContain('workspace:');
      for (const [dep, range] of Object.entries(manifest?.dependencies ?? {})) {
        if (!dep.startsWith('@perf/')) continue;
        const target = publishablePackages().find((p) => p.name === dep);
        expect(range, `${name} -> ${dep}`).toBe(`^${target?.version}`);
      }
      expect(manifest?.dependencies?.['@opentelemetry/api']).toBeUndefined();
    },
  );

  it('serves @perf only from itself: an unpublished @perf name is a 404, not npmjs', async () => {
    const response = await fetch(`${registry.url}@perf%2fdoes-not-exist`);
    expect(response.status).toBe(404);
  });
});

describe.each(MANAGERS)('%s install of one package alone', (manager) => {
  describe.each(consumerSpecs.map((spec) => [spec.name, spec] as const))('%s', (name, spec) => {
    it('installs only what it should (no prom-client unless metrics, never an OTel SDK or exporter)', () => {
      const names = [...installedPackages(find(manager, name).dir).keys()];
      expect(names).toContain(name);
      for (const required of spec.brings) expect(names, `${name} brings ${required}`).toContain(required);
      const forbidden = names.filter(
        (n) =>
          (n === 'prom-client' && !spec.brings.includes('prom-client')) ||
          n.startsWith('@opentelemetry/sdk-') ||
          n.startsWith('@opentelemetry/exporter-'),
      );
      expect(forbidden).toEqual([]);
      expect(
        installedPackages(find(manager, name).dir).get('@opentelemetry/api')?.length ?? 0,
      ).toBeLessThanOrEqual(1);
    });

    it('loads through import and through require', async () => {
      const { dir } = find(manager, name);
      const probe = `Object.keys(m).filter((k) => ${JSON.stringify(spec.api)}.includes(k)).sort().join(',')`;
      const expected = [...spec.api].sort().join(',');
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(name)}); console.log(${probe});`,
        ],
        { cwd: dir, env: consumerEnv() },
      );
      expect(esm.stdout.trim()).toBe(expected);
      const cjs = await run(
        process.execPath,
        ['--input-type=commonjs', '-e', `const m = require(${JSON.stringify(name)}); console.log(${probe});`],
        { cwd: dir, env: consumerEnv() },
      );
      expect(cjs.stdout.trim()).toBe(expected);
    });

    // Once @perf/tracing has setupTracing its example needs the SDK peers: it runs in the SDK project below.
    it.skipIf(name === '@perf/tracing' && tracingHasSetup)(
      "runs the README's example (examples/readme.ts) against the installed package",
      async () => {
        await runReadmeExample(find(manager, name).dir, spec, manager);
      },
    );

    if (manager === 'pnpm') {
      // pnpm's strict tree is where a missing declared dependency (or types one) shows first.
      it.concurrent.each(['node16', 'bundler'] as const)(
        'type-checks a consumer of the main API (and the README example) with moduleResolution %s',
        async (resolution) => {
          const { dir } = find(manager, name);
          copyFileSync(join(spec.dir, 'examples', 'readme.ts'), join(dir, 'readme-example.ts'));
          writeFileSync(join(dir, 'consumer.ts'), spec.consumerSource('esm'));
          const files = ['consumer.ts', 'readme-example.ts'];
          if (resolution === 'node16') {
            writeFileSync(join(dir, 'consumer.cts'), spec.consumerSource('cjs'));
            files.push('consumer.cts');
          }
          const tsconfig = join(dir, `tsconfig.${resolution}.json`);
          writeFileSync(
            tsconfig,
            JSON.stringify({
              compilerOptions: {
                target: 'ES2022',
                lib: ['ES2022'],
                module: resolution === 'node16' ? 'node16' : 'esnext',
                moduleResolution: resolution,
                strict: true,
                noEmit: true,
                skipLibCheck: false,
                types: ['node'],
                typeRoots: [join(repoRoot, 'node_modules', '@types')],
              },
              files,
            }),
          );
          await run(tsc, ['-p', tsconfig], { cwd: dir, env: consumerEnv(), timeoutMs: 120_000 });
        },
      );
    }
  });
});

describe('@perf/tracing without its optional SDK peers', () => {
  it.each(MANAGERS)('%s: no OpenTelemetry SDK, exporter or resources package is installed', (manager) => {
    const names = [...installedPackages(find(manager, '@perf/tracing').dir).keys()];
    expect(names.filter((n) => n.startsWith('@opentelemetry/') && n !== '@opentelemetry/api')).toEqual([]);
  });

  // Activates when @perf/tracing exports the correlation API (DESIGN: correlationId, withCorrelation).
  it.runIf(tracingHasCorrelation).each(MANAGERS)(
    '%s: withCorrelation / correlationId work',
    async (manager) => {
      const script = `
      const { withCorrelation, correlationId } = await import('@perf/tracing');
      const inside = await withCorrelation('corr-123', async () => { await new Promise((r) => setTimeout(r, 5)); return correlationId(); });
      console.log(JSON.stringify({ inside, outside: correlationId() ?? null }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: find(manager, '@perf/tracing').dir,
        env: consumerEnv(),
      });
      expect(JSON.parse(stdout.trim())).toEqual({ inside: 'corr-123', outside: null });
    },
  );

  // Activates when @perf/tracing exports setupTracing: with the SDK pins added, the others' spans export.
  it.runIf(tracingHasSetup).each(MANAGERS)(
    '%s: with the SDK pins added, setupTracing records the spans of @perf/cache',
    async (manager) => {
      const dir = newProject(`${manager}-tracing-sdk`);
      const manifest = JSON.parse(
        readFileSync(
          join(find(manager, '@perf/tracing').dir, 'node_modules', '@perf', 'tracing', 'package.json'),
          'utf8',
        ),
      ) as { peerDependencies?: Record<string, string> };
      const pins = tracingPeerPins(manifest.peerDependencies ?? {});
      await install(manager, dir, ['@perf/tracing', '@perf/cache', ...pins]);
      const script = `
        const { setupTracing } = await import('@perf/tracing');
        const { createCache } = await import('@perf/cache');
        const tracing = setupTracing({ serviceName: 'perf-consumer', exporter: 'console' });
        const cache = createCache({ namespace: 'tracing-consumer' });
        await cache.getOrSet('k', async () => 1);
        await cache.close();
        await tracing.shutdown();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: consumerEnv(),
      });
      expect(stdout).toContain('cache.factory');
      const tracing = consumerSpecs.find((spec) => spec.name === '@perf/tracing');
      if (tracing) await runReadmeExample(dir, tracing, manager);
      expect(installedPackages(dir).get('@opentelemetry/api')).toHaveLength(1);
    },
  );
});

/** Copies the package's README example into the project and runs it there (tsx, the project's node_modules). */
async function runReadmeExample(dir: string, spec: ConsumerSpec, manager: Manager): Promise<void> {
  const example = join(dir, 'readme-example.ts');
  copyFileSync(join(spec.dir, 'examples', 'readme.ts'), example);
  const namespace = `perf-consumer-${process.pid}-${manager}`;
  try {
    const { stdout } = await run(tsx, [example], {
      cwd: dir,
      env: { ...consumerEnv(), CACHE_NAMESPACE: namespace, REDIS_URL: redisUrl },
      timeoutMs: 60_000,
    });
    expect(stdout.length).toBeGreaterThan(0);
  } finally {
    if (spec.name === '@perf/cache') await deleteRedisKeys(`${namespace}:*`);
  }
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const url = new URL(redisUrl);
  const base = ['-h', url.hostname, '-p', url.port || '6379'];
  const { stdout } = await run('redis-cli', [...base, '--scan', '--pattern', pattern], { cwd: repoRoot });
  const keys = stdout.split('\n').filter(Boolean);
  if (keys.length > 0) await run('redis-cli', [...base, 'unlink', ...keys], { cwd: repoRoot });
}
