/**
 * The public-API report: for every entry point of every package (each key of `exports` but
 * `./package.json`), the declarations its built `.d.ts` exports, printed without comments into
 * `api-reports/<package>.api.md`. `pnpm lint` runs it in check mode, so an accidental export (or
 * a changed signature) fails CI until the report is refreshed on purpose:
 *
 *   pnpm build && pnpm api:update     (= tsx tooling/api-report.ts --update)
 *
 * Like api-extractor's report, but from the `.d.ts` files tsup already emits (no extra config per
 * package). Only what an entry exports is printed; types it merely references are not.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');
const reportDir = join(root, 'api-reports');

type ExportsMap = Record<string, string | { import?: { types?: string } | string; types?: string }>;

/** The `.d.ts` of each entry point of the package in `dir`: `{ '.': 'dist/index.d.ts', ... }`. */
export function entryPoints(dir: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: ExportsMap };
  const out: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json' || typeof target === 'string') continue;
    const types =
      typeof target.import === 'object' && target.import.types !== undefined
        ? target.import.types
        : target.types;
    if (types !== undefined) out[subpath] = join(dir, types);
  }
  return out;
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** The printed declarations `file` exports, sorted by exported name. */
export function reportEntry(file: string): string {
  const program = ts.createProgram([file], {
    noEmit: true,
    skipLibCheck: true,
    // Only exports and their declaration text are read, never types: no lib or @types to load.
    noLib: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`cannot read ${file}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) return '';
  const blocks: string[] = [];
  const exported = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const printed = (target.declarations ?? []).map((declaration) => {
      // Every release rewrites VERSION's literal; its type is the API, not its value.
      if (symbol.name === 'VERSION' && ts.isVariableDeclaration(declaration))
        return 'declare const VERSION: string;';
      const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
      const text = printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile()).trim();
      // A computed type (mapped, indexed, conditional, keyof, typeof) may be built from declarations the entry
      // does not export (core's event list): print what it resolves to as well, so they count.
      if (ts.isTypeAliasDeclaration(declaration) && isComputed(declaration.type)) {
        return `${text}\n${resolvedLines(checker, checker.getDeclaredTypeOfSymbol(target)).join('\n')}`;
      }
      return text;
    });
    const header = target.name === symbol.name ? symbol.name : `${symbol.name} (declared as ${target.name})`;
    blocks.push(`// ${header}\n${printed.join('\n')}`);
  }
  return blocks.join('\n\n');
}

const FLAGS = ts.TypeFormatFlags.NoTruncation;

/** What a computed type resolves to, one sorted line per union member or property (stable order). */
function resolvedLines(checker: ts.TypeChecker, type: ts.Type): string[] {
  let members: string[];
  if (type.isUnion()) {
    members = type.types.map((t) => checker.typeToString(t, undefined, FLAGS));
  } else if (type.getProperties().length > 0 && !(type.flags & ts.TypeFlags.StringLike)) {
    members = type.getProperties().map((p) => {
      const declaration = p.valueDeclaration ?? p.declarations?.[0];
      const propType = declaration
        ? checker.getTypeOfSymbolAtLocation(p, declaration)
        : checker.getTypeOfSymbol(p);
      return `${p.name}: ${checker.typeToString(propType, undefined, FLAGS)}`;
    });
  } else {
    members = [checker.typeToString(type, undefined, FLAGS | ts.TypeFormatFlags.InTypeAlias)];
  }
  return members.sort().map((m) => `//   resolves to ${m}`);
}

function isComputed(type: ts.TypeNode): boolean {
  return (
    ts.isMappedTypeNode(type) ||
    ts.isIndexedAccessTypeNode(type) ||
    ts.isConditionalTypeNode(type) ||
    ts.isTypeOperatorNode(type) ||
    ts.isTypeQueryNode(type)
  );
}

/** The whole report of the package in `dir`, as written to `api-reports/`. */
export function reportPackage(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
  const parts = [
    `# ${manifest.name} public API`,
    '',
    'Generated by `tooling/api-report.ts`; refresh with `pnpm api:update`.',
  ];
  for (const [subpath, file] of Object.entries(entryPoints(dir))) {
    if (!existsSync(file)) {
      throw new Error(`${relative(root, file)} is missing: run \`pnpm build\` before the API report`);
    }
    const entry = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, '')}`;
    parts.push('', `## ${entry}`, '', '```ts', reportEntry(file), '```');
  }
  return `${parts.join('\n')}\n`;
}

/** Names in `before` or `after` blocks (`// name` headers) that one has and the other lacks or changed. */
function describeChange(before: string, after: string): string[] {
  const blocks = (text: string) => {
    const map = new Map<string, string>();
    let section = '';
    for (const chunk of text.split(/\n(?=\/\/ |## )/)) {
      if (chunk.startsWith('## ')) section = chunk.split('\n')[0]!.slice(3);
      else if (chunk.startsWith('// ')) map.set(`${section}: ${chunk.split('\n')[0]!.slice(3)}`, chunk);
    }
    return map;
  };
  const a = blocks(before);
  const b = blocks(after);
  const lines: string[] = [];
  for (const [name, text] of b) {
    if (!a.has(name)) lines.push(`  + added   ${name}`);
    else if (a.get(name) !== text) lines.push(`  ~ changed ${name}`);
  }
  for (const name of a.keys()) if (!b.has(name)) lines.push(`  - removed ${name}`);
  return lines;
}

function main(): void {
  const update = process.argv.includes('--update');
  const packagesDir = join(root, 'packages');
  const problems: string[] = [];
  if (update) mkdirSync(reportDir, { recursive: true });
  for (const name of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const report = reportPackage(dir);
    const file = join(reportDir, `${name}.api.md`);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (report === current) continue;
    if (update) {
      writeFileSync(file, report);
      console.log(`api-report: wrote ${relative(root, file)}`);
    } else {
      problems.push(`${relative(root, file)} is out of date:`, ...describeChange(current, report));
    }
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    console.error(
      '\nThe public API changed. If that is intended, run `pnpm build && pnpm api:update` and commit api-reports/.',
    );
    process.exit(1);
  }
  if (!update) console.log('api-report: every public API matches api-reports/');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) main();
