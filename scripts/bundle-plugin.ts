/**
 * `node scripts/bundle-plugin.ts` (run by `npm run build` after tsc): the plugin as `arc` loads it,
 * bundled in two files. dist/index.js has what every `arc` command needs (the entry and
 * detect.ts); dist/plugin/job-<hash>.js has everything a job needs after that (activation, the
 * hooks, the report), as one ES module. Each of index.ts's dynamic imports becomes an import of
 * that one file; inside it, the modules only some jobs reach (exchange.ts, which requires the SDK
 * bundle, explain.ts) stay lazy: esbuild initialises them at their `import()`. tsc's per-module
 * output stays for the CLI and the types.
 *
 * Why (CONTRIBUTING.md, Benchmarks, issue 23): loading the deploy path's 23 ES modules one by one
 * took about 17 ms in a job (resolve, read, compile, link each). esbuild's code splitting made
 * that a few chunks (14 files on a dry run: each dynamic import's module, and chunks for what
 * they share); one file saves about 3 ms more inside `arc` (most of it at deploy.start, whose
 * chunks were loaded then). The job file's 135 kB take about 8 ms to load: read, compile (about
 * 3 ms; minifying did not change it) and the modules' top-level code.
 *
 * The job file sits in dist/plugin/ on purpose: two modules find files relative to their own
 * location (exchange.ts the SDK bundle `./sts-sdk.cjs`, allows.ts `../../iam/`), and tsc puts
 * them there too. test/unit/package.test.ts checks both.
 */
import { build, type Plugin } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const INDEX = join(ROOT, 'src', 'index.ts')

/** `const { a, b } = await import('./x.ts')` in src/index.ts: what the job file must export, by module. */
const DYNAMIC_IMPORT = /const \{([^}]*)\} = await import\('(\.{1,2}\/[^']+)'\)/g

export function jobExports (indexSource: string): Map<string, string[]> {
  const bySpecifier = new Map<string, Set<string>>()
  for (const [, names, specifier] of indexSource.matchAll(DYNAMIC_IMPORT)) {
    const set = bySpecifier.get(specifier!) ?? new Set<string>()
    for (const name of names!.split(',').map(n => n.split(':')[0]!.trim()).filter(Boolean)) set.add(name)
    bySpecifier.set(specifier!, set)
  }
  return new Map([...bySpecifier].map(([specifier, names]) => [specifier, [...names].sort()]))
}

export async function bundlePlugin (): Promise<string[]> {
  const exports = jobExports(readFileSync(INDEX, 'utf8'))
  const job = await build({
    stdin: {
      contents: [...exports].map(([specifier, names]) => `export { ${names.join(', ')} } from '${specifier}'`).join('\n'),
      resolveDir: join(ROOT, 'src'),
      sourcefile: 'job.ts',
      loader: 'ts',
    },
    ...COMMON,
    write: false,
    outfile: join(ROOT, 'dist', 'plugin', 'job.js'),
  })
  const code = job.outputFiles[0]!.contents
  // A content hash in the name, as esbuild names chunks: never the name of one of tsc's modules.
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 8).toUpperCase()
  const jobFile = join('dist', 'plugin', `job-${hash}.js`)
  mkdirSync(join(ROOT, 'dist', 'plugin'), { recursive: true })
  writeFileSync(join(ROOT, jobFile), code)

  await build({
    entryPoints: { index: INDEX },
    ...COMMON,
    outdir: join(ROOT, 'dist'),
    plugins: [toJobFile(`./plugin/job-${hash}.js`, exports)],
  })
  return ['dist/index.js', jobFile]
}

const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  format: 'esm',
  platform: 'node',
  // Node 20 must still parse it: the plugin refuses an old Node in one line (preflight's nodeTooOld).
  target: 'node20',
  // Packages (Architect's, the SDK's fallback in exchange.ts) are resolved at run time, as in src/.
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
} as const

/** Every dynamic import of src/index.ts goes to the job file, which exports what each destructures. */
function toJobFile (path: string, exports: Map<string, string[]>): Plugin {
  return {
    name: 'index-to-job-file',
    setup (b) {
      b.onResolve({ filter: /.*/ }, args => {
        if (args.kind !== 'dynamic-import' || resolve(args.importer) !== INDEX) return undefined
        if (!exports.has(args.path)) {
          throw new Error(`src/index.ts: import('${args.path}') is not written \`const { ... } = await import('${args.path}')\`, so scripts/bundle-plugin.ts cannot tell what the job file must export`)
        }
        return { path, external: true }
      })
    },
  }
}

if (import.meta.main) {
  const files = await bundlePlugin()
  console.log(`${files.map(f => `${f} (${(readFileSync(join(ROOT, f)).length / 1000).toFixed(0)} kB)`).join(', ')}; the job file from ${relative(ROOT, INDEX)}'s dynamic imports`)
}
