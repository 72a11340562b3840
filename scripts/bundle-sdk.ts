/**
 * `node scripts/bundle-sdk.ts` (run by `npm run build`, so by prepack): the exchange's AWS SDK in
 * one file, dist/plugin/sts-sdk.cjs, with the licence notices of every package in it next to it
 * (dist/plugin/sts-sdk.licenses.txt). src/plugin/exchange.ts loads the bundle when it is there
 * (the packed plugin) and the packages otherwise (the sources, in the unit tests), so the
 * published package has no SDK dependency at all.
 *
 * Why (CONTRIBUTING.md, Benchmarks): loading @aws-sdk/client-sts from node_modules resolves and
 * compiles some 20 files of about 1 MB; the bundle is one file of about 175 kB, built from the
 * packages' ES module sources (so unused exports are dropped) and minified. Three choices matter:
 *  - The credential-provider chain (@aws-sdk/credential-provider-node and the SSO, INI, process,
 *    container, instance-metadata providers it pulls in) is replaced by a stub: AssumeRoleWithWebIdentity
 *    is unsigned and the exchange passes placeholder credentials, so the chain is never called.
 *    The stub throws if it ever were.
 *  - Dynamic `import("node:http")` in the SDK's ES sources becomes `require`: an `import()` of a
 *    builtin builds its ES module facade, about 25 ms on the first request.
 *  - `ReadableStream` is undefined to the bundle (below): touching the global loads web streams.
 *  - CommonJS output: `require` of one file. An ES module bundle keeps `import("node:http")` (an ES
 *    module facade of the builtin, about 25 ms on the first request) and took 16% more CPU; tried, dropped.
 */
import { build, type Metafile, type Plugin } from 'esbuild'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const OUT = join(ROOT, 'dist', 'plugin', 'sts-sdk.cjs')
const LICENSES = join(ROOT, 'dist', 'plugin', 'sts-sdk.licenses.txt')

/** What src/plugin/exchange.ts takes from the SDK (its `Sdk` type), and nothing else. */
const ENTRY = `export { STSClient, AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts'
export { StandardRetryStrategy } from '@smithy/core/retry'
`

/** The default credential chain, which the unsigned call never reaches (exchange.ts passes credentials). */
const noCredentialChain: Plugin = {
  name: 'no-credential-chain',
  setup (b) {
    b.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, args => ({ path: args.path, namespace: 'stub' }))
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      loader: 'js',
      contents: `export const defaultProvider = () => async () => {
  throw new Error('arc-plugin-gitlab-oidc: the bundled STS client has no default credential chain; pass credentials')
}`,
    }))
  },
}

export async function bundleSdk (): Promise<{ bytes: number, packages: string[] }> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'sts-sdk-entry.mjs', loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // ES module sources first: esbuild drops what the entry does not reach (CommonJS it cannot).
    mainFields: ['module', 'main'],
    supported: { 'dynamic-import': false },
    // Web streams: the SDK checks `typeof ReadableStream` on each body, and the first touch of that
    // global makes Node load its web-streams implementation (a few ms). Node's http handler only
    // ever gives it Node streams, and STS has no event streams, so to the bundle there is none.
    define: { ReadableStream: 'undefined' },
    minify: true,
    legalComments: 'none',
    // Optional at run time and absent (SigV4a, only for multi-region endpoints): left as a guarded require.
    external: ['@aws-sdk/signature-v4-crt'],
    plugins: [noCredentialChain],
    outfile: OUT,
    metafile: true,
    logLevel: 'warning',
  })
  const packages = bundledPackages(result.metafile)
  writeFileSync(LICENSES, licenseNotices(packages))
  return { bytes: readFileSync(OUT).length, packages: packages.map(p => `${p.name}@${p.version}`) }
}

interface Bundled { name: string, version: string, license: string, dir: string }

/** Every package with a file in the bundle, found by walking up from each input to its package.json. */
function bundledPackages (metafile: Metafile): Bundled[] {
  const found = new Map<string, Bundled>()
  const inputs = Object.values(metafile.outputs).flatMap(o => Object.entries(o.inputs))
  for (const [input, { bytesInOutput }] of inputs) {
    if (!input.includes('node_modules/') || !bytesInOutput) continue
    let dir = dirname(resolve(ROOT, input))
    while (!existsSync(join(dir, 'package.json')) || !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name) dir = dirname(dir)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string, version: string, license?: string }
    found.set(pkg.name, { name: pkg.name, version: pkg.version, license: pkg.license ?? 'UNKNOWN', dir })
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** Each package's name, version, licence and its own LICENSE and NOTICE files, verbatim (a text already given is referred to). */
function licenseNotices (packages: Bundled[]): string {
  const given = new Map<string, string>()
  const head = `dist/plugin/sts-sdk.cjs bundles the following packages (built by scripts/bundle-sdk.ts with esbuild).
Their licence notices follow, each as the package ships it.
`
  const sections = packages.map(p => {
    const files = readdirSync(p.dir).filter(f => /^(licen[cs]e|notice)(\.|$)/i.test(f)).sort()
    if (!files.some(f => /^licen[cs]e/i.test(f))) throw new Error(`${p.name}@${p.version} (${relative(ROOT, p.dir)}) ships no LICENSE file: add its notice by hand before bundling it`)
    const texts = files.map(f => {
      const text = readFileSync(join(p.dir, f), 'utf8').trim()
      const first = given.get(text)
      if (first) return `--- ${f}: the same text as ${first}'s above\n`
      given.set(text, p.name)
      return `--- ${f}\n\n${text}\n`
    })
    return `${'='.repeat(78)}\n${p.name}@${p.version} (${p.license})\n\n${texts.join('\n')}`
  })
  return `${head}\n${sections.join('\n')}`
}

if (import.meta.main) {
  const { bytes, packages } = await bundleSdk()
  console.log(`${relative(ROOT, OUT)}: ${(bytes / 1000).toFixed(0)} kB from ${packages.length} packages (${packages.join(', ')}); notices in ${relative(ROOT, LICENSES)}`)
}
