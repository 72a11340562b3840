/**
 * 1. Load cost off GitLab.
 *
 * What every `arc` run on a laptop pays for having the plugin listed under @plugins: Architect
 * imports it, `detect` sees no GitLab job, and that is all. Compared: `await import()` of the
 * installed plugin (node_modules/arc-plugin-gitlab-oidc/dist/index.js, from the packed
 * tarball) against `await import()` of an empty module, each in a fresh Node 22 process (so
 * nothing is cached in the module map), alternating. Timed inside the process with
 * performance.now() around the import, and from outside as the whole process's wall time.
 *
 * Then, untimed: the same imports with module tracing, to list every AWS SDK module
 * (@aws-sdk/*, @smithy/*, and the plugin's own bundle of it, dist/plugin/sts-sdk.cjs) the
 * process resolved (test/e2e/module-trace.mjs, the tracer the
 * end-to-end tests use) and every file the plugin pulled in. As a control that the tracer
 * sees the SDK at all, the plugin is also imported once in a simulated job, where it must load it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ROOT } from '../../test/support/harness.ts'
import { verdict, type Context, type Row } from './context.ts'
import { describe, interleave, median, ms, probeResult, progress, progressDone, signedMs, timed } from './util.ts'

const MODULE_TRACE = join(ROOT, 'test', 'e2e', 'module-trace.mjs')
const TARGET_MS = 5

interface ImportProbe { ms: number, sinceStartMs: number, credentials: boolean }

export async function benchLoad (ctx: Context, runs: number): Promise<Row[]> {
  const plugin = pathToFileURL(join(ctx.pluginDir, 'dist', 'index.js')).href
  const empty = pathToFileURL(ctx.probes.empty).href
  const importIn = (url: string) => async () => {
    const r = await timed(ctx.node, [ctx.probes.import, url], { cwd: ctx.app.dir, env: ctx.devEnv() })
    const p = probeResult<ImportProbe>(r, `import ${url}`)
    return { ms: p.ms, wallMs: r.wallMs }
  }
  const results = await interleave(runs, { plugin: importIn(plugin), empty: importIn(empty) },
    i => progress(`1/4 load: round ${i + 1}/${runs}`))
  progressDone()
  const pluginMs = results.plugin!.map(r => r.ms)
  const emptyMs = results.empty!.map(r => r.ms)
  const pluginWall = results.plugin!.map(r => r.wallMs)
  const emptyWall = results.empty!.map(r => r.wallMs)
  const added = median(pluginMs) - median(emptyMs)
  const addedWall = median(pluginWall) - median(emptyWall)

  // Which modules did importing the plugin load? Off GitLab (must be no SDK), and in a job (control).
  const traced = async (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-bench-trace-'))
    try {
      const sdkFile = join(dir, 'sdk.txt')
      const allFile = join(dir, 'all.txt')
      const r = await timed(ctx.node, [`--import=${MODULE_TRACE}`, `--import=${ctx.probes.traceAll}`, ctx.probes.import, plugin], {
        cwd: ctx.app.dir, env: { ...env, ARC_E2E_MODULE_TRACE: sdkFile, BENCH_TRACE_ALL: allFile },
      })
      const p = probeResult<ImportProbe>(r, 'traced import of the plugin')
      const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean)
      const files = lines(allFile).map(u => fileURLToPath(u))
        .filter(f => !f.startsWith(ctx.probes.dir))
        .map(f => f.startsWith(ctx.pluginDir) ? relative(ctx.pluginDir, f) : f.replace(/^.*node_modules\//, ''))
      // module-trace.mjs also names the builtins the plugin imports (`import node:...`): not SDK modules.
      return { sdk: lines(sdkFile).filter(l => !l.startsWith('import ')), files, credentials: p.credentials }
    }
    finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const off = await traced(ctx.devEnv())
  const job = ctx.jobEnv({ ARC_OIDC_STAGE: 'production' })
  const inJob = await traced(job.env)
  if (!inJob.credentials || !inJob.sdk.length) {
    throw new Error(`control failed: importing the plugin in a simulated job should exchange and load the SDK (credentials: ${inJob.credentials}, SDK modules: ${inJob.sdk.length})`)
  }
  const sdkPackages = (mods: string[]) => new Set(mods.map(m => m.split('/').slice(0, 2).join('/')))

  console.log('\n## 1. Load cost off GitLab (every `arc` run on a laptop)')
  console.log('   fresh Node 22 process per run, plugin and empty module alternating; `await import()` timed inside the process')
  console.log(`   import the plugin        ${describe(pluginMs)}`)
  console.log(`   import an empty module   ${describe(emptyMs)}`)
  console.log(`   added by the plugin      ${signedMs(added, 2)} (difference of medians)`)
  console.log(`   whole process (wall)     plugin ${ms(median(pluginWall))}, empty ${ms(median(emptyWall))}: ${signedMs(addedWall)}`)
  console.log(`   files the import loaded  ${off.files.join(', ') || '(none)'}`)
  console.log(`   @aws-sdk/@smithy loaded  ${off.sdk.length ? off.sdk.join(', ') : 'none'}`)
  console.log(`   control, same import in a simulated job: ${inJob.files.length} files, of them the SDK: ${inJob.sdk.length > 3 ? `${inJob.sdk.length} files from ${sdkPackages(inJob.sdk).size} packages` : inJob.sdk.join(', ')}; credentials in process.env`)
  const byPackage = new Map<string, number>()
  for (const f of inJob.files) {
    const pkg = f.startsWith('dist/') ? 'the plugin' : f.startsWith('/') ? 'node' : f.split('/').slice(0, f.startsWith('@') ? 2 : 1).join('/')
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1)
  }
  console.log(`   in the job, files by package: ${[...byPackage].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} ${n}`).join(', ')}`)

  return [
    {
      measure: '1. Load off GitLab: `import` plugin − empty module (in process)',
      value: `${signedMs(added, 2)} (${ms(median(pluginMs), 2)} vs ${ms(median(emptyMs), 2)})`,
      target: `< ${TARGET_MS} ms`,
      result: verdict(added < TARGET_MS),
    },
    {
      measure: '1. Load off GitLab: whole `node` process, plugin − empty',
      value: `${signedMs(addedWall)} (${ms(median(pluginWall))} vs ${ms(median(emptyWall))})`,
      target: '–',
      result: 'info',
    },
    {
      measure: '1. Load off GitLab: @aws-sdk/@smithy modules loaded',
      value: off.sdk.length ? `${off.sdk.length}: ${off.sdk.slice(0, 3).join(', ')}…` : `none (${off.files.length} files loaded; in a job: ${inJob.sdk.length})`,
      target: 'none',
      result: verdict(off.sdk.length === 0),
    },
  ]
}
