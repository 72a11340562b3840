/**
 * `node scripts/bundle-plugin.ts` (run by `npm run build` after tsc): the plugin as `arc` loads it,
 * bundled. dist/index.js becomes one file with what every `arc` command needs (the entry and
 * detect.ts); what a job needs is in chunks next to it in dist/plugin/ (`activate-<hash>.js` and
 * the modules it imports, `exchange-<hash>.js`, each hook's), loaded by the same dynamic imports
 * as in src/, each module once. tsc's per-module output stays for the CLI and the types.
 *
 * Why (CONTRIBUTING.md, Benchmarks, issue 23): loading the deploy path's 23 ES modules one by one
 * took about 17 ms in a job (resolve, read, compile, link each); as a few chunks, about 8 ms.
 *
 * The chunks sit in dist/plugin/ on purpose: two modules find files relative to their own
 * location (exchange.ts the SDK bundle `./sts-sdk.cjs`, allows.ts `../../iam/`), and tsc puts
 * them there too. test/unit/package.test.ts checks where each chunk is.
 */
import { build } from 'esbuild'
import { join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')

export async function bundlePlugin (): Promise<string[]> {
  const result = await build({
    entryPoints: { index: join('src', 'index.ts') },
    absWorkingDir: ROOT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // Node 20 must still parse it: the plugin refuses an old Node in one line (preflight's nodeTooOld).
    target: 'node20',
    // Packages (Architect's, the SDK's fallback in exchange.ts) are resolved at run time, as in src/.
    packages: 'external',
    outdir: 'dist',
    entryNames: '[name]',
    chunkNames: 'plugin/[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  })
  return Object.keys(result.metafile.outputs).map(file => relative(ROOT, resolve(ROOT, file)))
}

if (import.meta.main) {
  const files = await bundlePlugin()
  console.log(`dist/index.js and ${files.length - 1} chunks in dist/plugin/ (${files.filter(f => f !== 'dist/index.js').map(f => f.replace('dist/plugin/', '')).join(', ')})`)
}
