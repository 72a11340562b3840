/**
 * The tiny programs the benchmarks run in fresh Node 22 processes. They are plain JavaScript
 * (.mjs), written to a temp dir at start: a .ts probe would make every process pay for type
 * stripping, which is not part of what a user's `arc` pays for the plugin.
 *
 * Each probe prints one `BENCH {json}` line last; the plugin's own lines may come before it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `node probe-import.mjs <url>`: time `await import(url)`; say whether credentials are now in process.env. */
const IMPORT = `
const url = process.argv[2]
const t0 = performance.now()
await import(url)
const ms = performance.now() - t0
const key = process.env.AWS_ACCESS_KEY_ID ?? ''
const credentials = key.startsWith('ASIA') && !!process.env.AWS_SECRET_ACCESS_KEY && !!process.env.AWS_SESSION_TOKEN
console.log('BENCH ' + JSON.stringify({ ms, sinceStartMs: performance.now(), credentials }))
`

/**
 * The bare minimum a job could do instead: one POST of AssumeRoleWithWebIdentity's form body
 * (BENCH_FORM) to the STS endpoint (BENCH_STS) with node:http, pick the three values out of
 * the XML, put them in process.env. Timed from before node:http is loaded, as the plugin's
 * time includes loading its modules. Exported as a function for the in-process probe too.
 *
 * node:http is taken with process.getBuiltinModule, the cheapest way there is: an ES import of
 * it (`await import('node:http')`, as this probe had it until issue 23's second pass) builds its
 * ES module facade, which loads undici and made the floor some 40 ms slower than it is.
 */
const BARE = `
export async function bare (sts, form) {
  const { request } = process.getBuiltinModule('node:http')
  const xml = await new Promise((resolve, reject) => {
    const req = request(new URL(sts), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': Buffer.byteLength(form) },
    }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', d => { text += d })
      res.on('end', () => res.statusCode === 200 ? resolve(text) : reject(new Error('HTTP ' + res.statusCode + ': ' + text)))
    })
    req.on('error', reject)
    req.end(form)
  })
  const pick = tag => xml.match(new RegExp('<' + tag + '>([^<]*)</' + tag + '>'))?.[1]
  process.env.AWS_ACCESS_KEY_ID = pick('AccessKeyId')
  process.env.AWS_SECRET_ACCESS_KEY = pick('SecretAccessKey')
  process.env.AWS_SESSION_TOKEN = pick('SessionToken')
  if (!process.env.AWS_ACCESS_KEY_ID?.startsWith('ASIA')) throw new Error('no credentials in ' + xml)
}
`

const POST = BARE + `
const t0 = performance.now()
await bare(process.env.BENCH_STS, process.env.BENCH_FORM)
const ms = performance.now() - t0
console.log('BENCH ' + JSON.stringify({ ms, sinceStartMs: performance.now(), credentials: true }))
`

/**
 * \`node probe-sdk.mjs <dist/ url> [@architect/module ...]\` in a simulated job: the plugin's SDK
 * call and nothing else of the plugin. Imports the plugin's exchange module (tsc's
 * dist/plugin/exchange.js, which requires the bundle dist/plugin/sts-sdk.cjs; the job file has the
 * same module inline, initialised at the same point) and calls its assumeRole() with the request in
 * BENCH_REQUEST: the same client, retry strategy, timeouts and
 * answer check as a deploy, then the three values into process.env. With module names after the
 * URL it first requires them from the app (the Architect modules the plugin reads app.arc and
 * prints with), timed from before they load. What the terms keep (the SDK client,
 * Architect's parser) costs at least this much, whatever the plugin's own code does.
 */
const SDK = `
const { createRequire } = process.getBuiltinModule('node:module')
const [dist, ...architect] = process.argv.slice(2)
const t0 = performance.now()
const require = createRequire(process.cwd() + '/')
for (const name of architect) require(name)
const { assumeRole } = await import(new URL('plugin/exchange.js', dist))
const c = await assumeRole(JSON.parse(process.env.BENCH_REQUEST))
process.env.AWS_ACCESS_KEY_ID = c.accessKeyId
process.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey
process.env.AWS_SESSION_TOKEN = c.sessionToken
const ms = performance.now() - t0
console.log('BENCH ' + JSON.stringify({ ms, sinceStartMs: performance.now(), credentials: c.accessKeyId.startsWith('ASIA') }))
`

/**
 * \`NODE_OPTIONS=--import probe-sdk-preload.mjs arc ...\` with BENCH_DIST (the installed dist/ URL)
 * and BENCH_REQUEST: the same SDK call as probe-sdk.mjs, made in the \`arc\` process itself just
 * before Architect loads. Its credentials are not used (that run has keys already): it is there to
 * cost what the SDK call costs inside an \`arc\` process, and nothing of the plugin's own code.
 */
const SDK_PRELOAD = `
const { assumeRole } = await import(new URL('plugin/exchange.js', process.env.BENCH_DIST))
const c = await assumeRole(JSON.parse(process.env.BENCH_REQUEST))
if (!c.accessKeyId.startsWith('ASIA')) throw new Error('the preloaded SDK call got no credentials')
`

/**
 * \`node probe-warm.mjs <exchange.js url> <rounds>\`: in ONE process, after a few untimed calls
 * of each, alternate the plugin's exchange() (a new SDK client per call, as the plugin does)
 * with the bare POST. What remains is the SDK's per-call cost, module loading excluded.
 */
const WARM = `
import { bare } from './bare.mjs'
const { assumeRole: exchange } = await import(process.argv[2])
const rounds = Number(process.argv[3])
const request = JSON.parse(process.env.BENCH_REQUEST)
const sdk = []
const plain = []
const time = async fn => { const t0 = performance.now(); await fn(); return performance.now() - t0 }
const first = await time(() => exchange(request))
for (let i = 0; i < 3; i++) { await exchange(request); await bare(process.env.BENCH_STS, process.env.BENCH_FORM) }
for (let i = 0; i < rounds; i++) {
  if (i % 2) { plain.push(await time(() => bare(process.env.BENCH_STS, process.env.BENCH_FORM))); sdk.push(await time(() => exchange(request))) }
  else { sdk.push(await time(() => exchange(request))); plain.push(await time(() => bare(process.env.BENCH_STS, process.env.BENCH_FORM))) }
}
console.log('BENCH ' + JSON.stringify({ first, sdk, bare: plain }))
`

/**
 * \`node probe-breakdown.mjs <dist/ url>\` in a simulated job: where the plugin's time goes, step by
 * step, with Architect's own modules loaded first (as they are inside \`arc\` when it imports
 * plugins): the SDK (the plugin's exchange module, tsc's dist/plugin/exchange.js, which loads
 * sts-sdk.cjs), the rest of the plugin (the job file \`arc\` loads, scripts/bundle-plugin.ts), then
 * activate() itself with its exchange timed separately. detect() is tsc's module (index.js has it
 * inlined, unexported).
 */
const BREAKDOWN = `
const { createRequire } = await import('node:module')
const { readdirSync } = process.getBuiltinModule('node:fs')
const dist = process.argv[2]
const require = createRequire(new URL('index.js', dist))
const job = new URL('plugin/' + readdirSync(new URL('plugin/', dist)).find(f => /^job-[A-Z0-9]{8}\\.js$/.test(f)), dist)
let last = performance.now()
const lap = () => { const now = performance.now(); const d = now - last; last = now; return d }
require('@architect/inventory'); require('@architect/utils')
const architect = lap()
const { assumeRole: exchange } = await import(new URL('plugin/exchange.js', dist))
const sdkModules = lap()
const { activate } = await import(job)
const { detect } = await import(new URL('plugin/detect.js', dist))
const pluginModules = lap()
let exchangeMs = 0
const outcome = await activate(detect(process.env, process.argv), {
  env: process.env, cwd: process.cwd(), now: () => new Date(), out: () => {}, err: () => {},
  exchange: async request => { const t0 = performance.now(); try { return await exchange(request) } finally { exchangeMs = performance.now() - t0 } },
})
const activateMs = lap()
if (outcome.kind !== 'assumed') throw new Error('no exchange: ' + JSON.stringify(outcome))
console.log('BENCH ' + JSON.stringify({ architect, sdkModules, pluginModules, activateMs, exchangeMs }))
`

/** \`--import\`ed: every file: URL the process resolves (import or require), written on exit to BENCH_TRACE_ALL. */
const TRACE_ALL = `
import { registerHooks } from 'node:module'
import { writeFileSync } from 'node:fs'
const seen = new Set()
registerHooks({
  resolve (specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    if (result.url.startsWith('file:')) seen.add(result.url)
    return result
  },
})
process.on('exit', () => { if (process.env.BENCH_TRACE_ALL) writeFileSync(process.env.BENCH_TRACE_ALL, [...seen].join('\\n')) })
`

/**
 * \`--require\`d (CommonJS: no ES module loader started for it): on exit, writes the process's CPU
 * time, user + system, in ms, to BENCH_CPU_FILE. CPU time is what other load on the machine
 * changes least, so it is printed next to wall times that a busy machine stretches.
 */
const CPU = `
process.on('exit', () => {
  const { user, system } = process.cpuUsage()
  if (process.env.BENCH_CPU_FILE) require('node:fs').writeFileSync(process.env.BENCH_CPU_FILE, String((user + system) / 1000))
})
`

export interface Probes {
  dir: string
  import: string
  post: string
  warm: string
  traceAll: string
  breakdown: string
  sdk: string
  sdkPreload: string
  cpu: string
  /** An empty ES module: the baseline for "import cost". */
  empty: string
  remove (): void
}

export function writeProbes (): Probes {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-probes-'))
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text.trimStart())
    return join(dir, name)
  }
  file('bare.mjs', BARE)
  return {
    dir,
    import: file('probe-import.mjs', IMPORT),
    post: file('probe-post.mjs', POST),
    warm: file('probe-warm.mjs', WARM),
    traceAll: file('trace-all.mjs', TRACE_ALL),
    breakdown: file('probe-breakdown.mjs', BREAKDOWN),
    sdk: file('probe-sdk.mjs', SDK),
    sdkPreload: file('probe-sdk-preload.mjs', SDK_PRELOAD),
    cpu: file('cpu.cjs', CPU),
    empty: file('empty.mjs', ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
