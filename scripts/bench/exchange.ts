/**
 * 2. Exchange cost in a job: the job's ID token → the role's credentials in process.env.
 *
 * Several ways of getting there, each in a fresh process per run, alternating, all against the
 * same loopback STS stand-in (which verifies the token's signature against the issuer's JWKS,
 * cached after the first call, like AWS):
 *
 *  - plugin: `await import()` of the installed plugin in a simulated job (GITLAB_CI, the ID
 *    token, ARC_OIDC_STAGE=production, cwd = the app): detect → settings from app.arc → token
 *    checks → AssumeRoleWithWebIdentity through @aws-sdk/client-sts → process.env. Timed
 *    inside the process, so loading the plugin's modules and the SDK is included; that is what
 *    a job pays (inside `arc`, Architect's own modules are already loaded, so slightly less).
 *  - bare: the floor. A plain node:http POST of the same form body to the same endpoint, the
 *    three values picked out of the XML with regular expressions, no checks, no retries.
 *  - sdk, sdkArchitect: what the issue's terms keep, without the plugin's own code. The plugin's
 *    exchange module's assumeRole() (the same SDK client, retry strategy, timeouts and answer check as a
 *    deploy) in a process of its own, then the same after requiring the Architect modules the
 *    plugin reads app.arc and prints with (found in the bundle). The plugin in a process of its
 *    own costs at least the second; the difference is the plugin's own code.
 *  - configure-aws-credentials: GitHub's action for the same exchange, its own committed dist
 *    bundle in a process of its own (./configure-aws-credentials.ts: BENCH_CONFIGURE_AWS_CREDENTIALS
 *    names a copy; skipped, and said so, without one). Whole process only.
 *  - AWS CLI: `aws sts assume-role-with-web-identity --endpoint-url <stand-in>`, the step of the
 *    shell recipe the plugin replaces (whole process only: there is no "inside" to time). Only
 *    when an `aws` is installed; every distinct one found on PATH is measured
 *    (BENCH_AWS_CLI=path[:path] chooses, BENCH_AWS_CLI=none skips). It gets empty config and
 *    credentials files, no instance metadata, no pager, loopback only.
 *
 * Then, in ONE process after warm-up, the plugin's exchange() (from the installed dist, a new
 * SDK client per call as in the plugin) alternating with the bare POST: the SDK's per-call
 * overhead once its modules are loaded.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { verdict, type Context, type Row } from './context.ts'
import { findConfigureAwsCredentials, runConfigureAwsCredentials } from './configure-aws-credentials.ts'
import { cpuTimed, describe, exchangeRequest, interleave, median, ms, probeResult, progress, progressDone, sessionNameOf, signedMs, timed, type Timed } from './util.ts'

// Issue 23's goals: in process, the exchange within 70 ms of one round trip; the whole process at
// least 1.4x faster than configure-aws-credentials' and within 1.5x of the floor (the bare POST).
const TARGET_ABOVE_BARE_MS = 70
const TARGET_VS_CLI = 5
const TARGET_VS_CAWS = 1.4
const TARGET_VS_FLOOR = 1.5

interface AwsCli { path: string, version: string }

/** The AWS CLIs to compare with: BENCH_AWS_CLI, or every distinct `aws` on PATH (pyenv shims resolved). */
export function findAwsClis (): AwsCli[] {
  const chosen = process.env.BENCH_AWS_CLI
  if (chosen === 'none') return []
  const candidates = chosen ? chosen.split(':').filter(Boolean) : (spawnSync('which', ['-a', 'aws'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)
  const found = new Map<string, AwsCli>()
  for (let path of candidates) {
    try {
      if (isPyenvShim(path)) {
        const r = spawnSync('pyenv', ['which', 'aws'], { encoding: 'utf8' })
        if (r.status !== 0) continue
        path = (r.stdout ?? '').trim()
      }
      path = realpathSync(path)
      if (found.has(path)) continue
      const v = spawnSync(path, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: tmpdir() } })
      const version = `${v.stdout}${v.stderr}`.trim().split(/\s+/)[0] ?? ''
      if (v.status === 0 && version.startsWith('aws-cli/')) found.set(path, { path, version })
    }
    catch { /* not runnable: not a candidate */ }
  }
  return [...found.values()]
}

/** pyenv's shim is a shell script that re-resolves the Python on every call; time the real `aws` instead. */
function isPyenvShim (path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(2048)
    const n = readSync(fd, head, 0, head.length, 0)
    return /pyenv/.test(head.subarray(0, n).toString('latin1')) && /\bexec\b/.test(head.subarray(0, n).toString('latin1'))
  }
  finally {
    closeSync(fd)
  }
}

/**
 * The Architect modules the packed plugin requires on the deploy path (Architect's parser for
 * app.arc, its chalk and chars, its minimist), read out of the bundle `arc` loads: dist/index.js
 * and its job file. Inside `arc` they are loaded before any plugin; in a process of their own they are not.
 */
function architectRequires (dist: string): string[] {
  const files = [join(dist, 'index.js'), ...readdirSync(join(dist, 'plugin')).filter(f => /-[A-Z0-9]{8}\.js$/.test(f)).map(f => join(dist, 'plugin', f))]
  const found = new Set<string>()
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/\brequire\d*\(\s*["'](@architect\/[^"']+)["']\s*\)/g)) found.add(m[1]!)
  if (!found.size) throw new Error(`no require of an @architect module found in ${dist}: has the bundle changed shape?`)
  return [...found].sort()
}

interface ImportProbe { ms: number, sinceStartMs: number, credentials: boolean }
interface WarmProbe { first: number, sdk: number[], bare: number[] }
interface BreakdownProbe {
  architect: number
  sdkModules: number
  pluginModules: number
  activateMs: number
  exchangeMs: number
}

export async function benchExchange (ctx: Context, runs: number, warmRounds: number): Promise<Row[]> {
  const { s } = ctx
  const endpoint = s.aws.endpoint
  const roleArn = s.roles.production
  const pluginUrl = pathToFileURL(join(ctx.pluginDir, 'dist', 'index.js')).href
  const clis = findAwsClis()
  const caws = findConfigureAwsCredentials()

  // A job (fresh token) for every run; the form body is what the plugin sends, minus SDK headers.
  const newJob = () => {
    const job = ctx.jobEnv({ ARC_OIDC_STAGE: 'production' })
    const sessionName = sessionNameOf(job.claims)
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: job.token, DurationSeconds: '3600',
    }).toString()
    return { ...job, sessionName, form }
  }

  const cliHome = mkdtempSync(join(tmpdir(), 'arc-bench-awscli-'))
  writeFileSync(join(cliHome, 'config'), '')
  writeFileSync(join(cliHome, 'credentials'), '')
  const cliEnv = {
    PATH: '/usr/bin:/bin',
    HOME: cliHome,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: join(cliHome, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(cliHome, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  }

  const stsBefore = s.aws.stsCalls().length
  const distUrl = pathToFileURL(join(ctx.pluginDir, 'dist')).href + '/'
  const architectModules = architectRequires(join(ctx.pluginDir, 'dist'))
  const sdkAlone = async (modules: string[]): Promise<Sample> => {
    const job = newJob()
    const request = exchangeRequest(job, roleArn, endpoint)
    const c = cpuTimed(ctx.probes.cpu, [ctx.probes.sdk, distUrl, ...modules], { ...job.env, BENCH_REQUEST: JSON.stringify(request) })
    const r = await timed(ctx.node, c.args, { cwd: ctx.app.dir, env: c.env })
    const p = probeResult<ImportProbe>(r, modules.length ? 'the SDK call with Architect\'s modules' : 'the SDK call alone')
    if (!p.credentials) throw new Error(`the SDK call left no credentials in process.env\n${r.stdout}\n${r.stderr}`)
    return { ms: p.ms, wallMs: r.wallMs, cpuMs: c.read() }
  }
  type Sample = { ms?: number, wallMs: number, cpuMs?: number }
  const variants: Record<string, () => Promise<Sample>> = {
    plugin: async () => {
      const job = newJob()
      const c = cpuTimed(ctx.probes.cpu, [ctx.probes.import, pluginUrl], job.env)
      const r = await timed(ctx.node, c.args, { cwd: ctx.app.dir, env: c.env })
      const p = probeResult<ImportProbe>(r, 'the plugin in a simulated job')
      if (!p.credentials) throw new Error(`the plugin left no credentials in process.env\n${r.stdout}\n${r.stderr}`)
      return { ms: p.ms, wallMs: r.wallMs, cpuMs: c.read() }
    },
    bare: async () => {
      const job = newJob()
      const c = cpuTimed(ctx.probes.cpu, [ctx.probes.post], ctx.devEnv({ BENCH_STS: endpoint, BENCH_FORM: job.form }))
      const r = await timed(ctx.node, c.args, { env: c.env })
      return { ms: probeResult<ImportProbe>(r, 'bare POST').ms, wallMs: r.wallMs, cpuMs: c.read() }
    },
    // What the issue's terms keep, alone: the plugin's SDK call, then that plus the Architect modules it reads app.arc and prints with.
    sdk: async () => await sdkAlone([]),
    sdkArchitect: async () => await sdkAlone(architectModules),
  }
  if (typeof caws !== 'string') {
    variants.caws = async () => {
      const job = newJob()
      return await runConfigureAwsCredentials(ctx.node, caws, job, endpoint, roleArn, ctx.probes.cpu)
    }
  }
  for (const cli of clis) {
    variants[`cli:${cli.path}`] = async () => {
      const job = newJob()
      const r: Timed = await timed(cli.path, [
        'sts', 'assume-role-with-web-identity',
        '--role-arn', roleArn, '--role-session-name', job.sessionName, '--web-identity-token', job.token, '--duration-seconds', '3600',
        '--endpoint-url', endpoint, '--region', 'us-west-2', '--output', 'json',
      ], { env: cliEnv })
      let key: string | undefined
      try { key = (JSON.parse(r.stdout) as { Credentials?: { AccessKeyId?: string } }).Credentials?.AccessKeyId }
      catch { /* reported below */ }
      if (r.code !== 0 || !key?.startsWith('ASIA')) throw new Error(`${cli.path} failed (exit ${r.code})\n${r.stdout}\n${r.stderr}`)
      return { wallMs: r.wallMs }
    }
  }
  let results: Record<string, Sample[]>
  try {
    results = await interleave(runs, variants, i => progress(`2/4 exchange: round ${i + 1}/${runs}`))
  }
  finally {
    rmSync(cliHome, { recursive: true, force: true })
    if (typeof caws !== 'string') caws.remove()
  }
  progressDone()
  const stsCalls = s.aws.stsCalls().slice(stsBefore)
  const failedSts = stsCalls.filter(c => c.status !== 200).length
  const inside = (name: string) => results[name]!.map(r => r.ms!)
  const wall = (name: string) => results[name]!.map(r => r.wallMs)
  const cpu = (name: string) => median(results[name]!.map(r => r.cpuMs!))
  const above = median(inside('plugin')) - median(inside('bare'))
  const keptAbove = median(inside('sdkArchitect')) - median(inside('bare'))

  // Steady state in one process: the SDK's per-call cost with its modules already loaded.
  const job = newJob()
  const request = exchangeRequest(job, roleArn, endpoint)
  progress('2/4 exchange: in-process rounds')
  const warmRun = await timed(ctx.node, [ctx.probes.warm, pathToFileURL(join(ctx.pluginDir, 'dist', 'plugin', 'exchange.js')).href, String(warmRounds)], {
    cwd: ctx.app.dir, env: ctx.devEnv({ BENCH_REQUEST: JSON.stringify(request), BENCH_STS: endpoint, BENCH_FORM: job.form }),
  })
  progressDone()
  const warm = probeResult<WarmProbe>(warmRun, 'in-process exchange rounds')
  const warmAbove = median(warm.sdk) - median(warm.bare)

  // Where the plugin's time in a job goes, step by step (fresh process each, Architect's modules preloaded).
  const breakdownRuns = ctx.quick ? 3 : 7
  const parts: BreakdownProbe[] = []
  for (let i = 0; i < breakdownRuns; i++) {
    progress(`2/4 exchange: breakdown ${i + 1}/${breakdownRuns}`)
    const job = newJob()
    const r = await timed(ctx.node, [ctx.probes.breakdown, pathToFileURL(join(ctx.pluginDir, 'dist')).href + '/'], { cwd: ctx.app.dir, env: job.env })
    parts.push(probeResult<BreakdownProbe>(r, 'step-by-step breakdown'))
  }
  progressDone()
  const part = (k: keyof BreakdownProbe) => median(parts.map(p => p[k]))

  console.log('\n## 2. Exchange cost in a job (token → credentials in process.env, loopback STS)')
  console.log('   fresh Node 22 process per run, variants alternating; "inside" = timed in the process around import/POST, "wall" = whole process')
  console.log(`   plugin, inside           ${describe(inside('plugin'))}   (import of the plugin in a job: its modules, the SDK, checks, exchange)`)
  console.log(`   bare POST, inside        ${describe(inside('bare'))}   (node:http POST of the same form, regex, process.env)`)
  console.log(`   plugin above bare        ${signedMs(above)}`)
  console.log(`   plugin, wall             ${describe(wall('plugin'))}`)
  console.log(`   bare POST, wall          ${describe(wall('bare'))}   (the floor)`)
  console.log(`   plugin ÷ floor, wall     ${(median(wall('plugin')) / median(wall('bare'))).toFixed(2)}x`)
  console.log(`   what the issue keeps, without the plugin's own code (probe-sdk.mjs: exchange.ts's assumeRole(), nothing else):`)
  console.log(`     the SDK call alone       inside ${describe(inside('sdk'))}, wall ${ms(median(wall('sdk')))} (${(median(wall('sdk')) / median(wall('bare'))).toFixed(2)}x the floor)`)
  console.log(`     + Architect's modules    inside ${describe(inside('sdkArchitect'))}, wall ${ms(median(wall('sdkArchitect')))} (${(median(wall('sdkArchitect')) / median(wall('bare'))).toFixed(2)}x the floor)`)
  console.log(`       (${architectModules.join(', ')}: what the plugin reads app.arc and prints with; loaded before any plugin inside \`arc\`)`)
  console.log(`     the plugin's own code    ${signedMs(median(inside('plugin')) - median(inside('sdkArchitect')))} inside, ${signedMs(median(wall('plugin')) - median(wall('sdkArchitect')))} wall (plugin − the line above)`)
  if (typeof caws === 'string') console.log(`   configure-aws-credentials ${caws}`)
  else {
    console.log(`   configure-aws-credentials ${describe(wall('caws'))}   (${caws.version}, its dist bundle, wall; AssumeRoleWithWebIdentity + its GetCallerIdentity check)`)
    console.log(`   ${''.padEnd(24)} ÷ plugin process ${(median(wall('caws')) / median(wall('plugin'))).toFixed(2)}x`)
  }
  // CPU time (user + system) of the same processes: what a busy machine stretches least.
  const cpuLine = [`plugin ${ms(cpu('plugin'), 0)}`, `floor ${ms(cpu('bare'), 0)} (plugin ÷ floor ${(cpu('plugin') / cpu('bare')).toFixed(2)}x)`]
  if (typeof caws !== 'string') cpuLine.push(`configure-aws-credentials ${ms(cpu('caws'), 0)} (÷ plugin ${(cpu('caws') / cpu('plugin')).toFixed(2)}x)`)
  console.log(`   CPU time, user + system  ${cpuLine.join(', ')}; medians`)
  for (const cli of clis) {
    const cliWall = median(wall(`cli:${cli.path}`))
    console.log(`   ${cli.version.padEnd(24)} ${describe(wall(`cli:${cli.path}`))}   (${cli.path}, wall)`)
    console.log(`   ${''.padEnd(24)} ÷ plugin process ${(cliWall / median(wall('plugin'))).toFixed(1)}x, ÷ plugin's in-process time (what it adds inside \`arc\`) ${(cliWall / median(inside('plugin'))).toFixed(1)}x, ÷ bare POST process (the ceiling for any Node exchange) ${(cliWall / median(wall('bare'))).toFixed(1)}x`)
  }
  if (!clis.length) console.log('   AWS CLI                  not installed: comparison skipped (`apt-get install awscli`, or BENCH_AWS_CLI=/path/to/aws)')
  console.log(`   stand-in STS, per call   ${describe(stsCalls.map(c => c.durationMs), 'ms', 0)} server-side (verify token, issue keys); ${stsCalls.length} calls, ${failedSts} not 200`)
  console.log(`   where the plugin's time goes, inside \`arc\` (fresh process, Architect's modules preloaded; medians of ${breakdownRuns}):`)
  console.log(`     (not counted below: Architect's inventory and utils, loaded in \`arc\` before plugins; ${ms(part('architect'))}; the whole-process variant pays it)`)
  console.log(`     loading the SDK (exchange.ts and the bundle dist/plugin/sts-sdk.cjs)    ${ms(part('sdkModules'))}`)
  console.log(`     loading the plugin's other modules (the job file, dist/plugin/job-<hash>.js) ${ms(part('pluginModules'))}`)
  console.log(`     activate(): settings, token checks, report, process.env    ${ms(part('activateMs') - part('exchangeMs'))}`)
  console.log(`     exchange(): first SDK call (a bare POST's first, above: ${ms(median(inside('bare')))})  ${ms(part('exchangeMs'))}`)
  console.log(`   in one process after warm-up (${warmRounds} rounds, alternating): exchange() ${describe(warm.sdk)}, bare POST ${describe(warm.bare)}: ${signedMs(warmAbove)} per call; the very first exchange() ${ms(warm.first)}`)

  const pluginWall = median(wall('plugin'))
  const rows: Row[] = [
    typeof caws === 'string'
      ? { measure: '2. Whole process vs configure-aws-credentials\' dist bundle', value: caws.replace(/: comparison skipped.*/, ''), target: `≥ ${TARGET_VS_CAWS}x faster`, result: 'skipped' }
      : {
        measure: `2. Whole process: configure-aws-credentials ${caws.version} / plugin`,
        value: `${(median(wall('caws')) / pluginWall).toFixed(2)}x faster (${ms(pluginWall, 0)} vs ${ms(median(wall('caws')), 0)})`,
        target: `≥ ${TARGET_VS_CAWS}x faster`,
        result: verdict(median(wall('caws')) / pluginWall >= TARGET_VS_CAWS),
      },
    {
      measure: '2. Whole process: plugin / the floor (bare node:http POST process)',
      value: `${(pluginWall / median(wall('bare'))).toFixed(2)}x (${ms(pluginWall, 0)} vs ${ms(median(wall('bare')), 0)})`,
      target: `≤ ${TARGET_VS_FLOOR}x`,
      result: verdict(pluginWall / median(wall('bare')) <= TARGET_VS_FLOOR),
    },
    {
      measure: '2. Same two ratios in CPU time (user + system; a busy machine stretches it least)',
      value: `${typeof caws === 'string' ? '' : `${(cpu('caws') / cpu('plugin')).toFixed(2)}x faster than configure-aws-credentials; `}${(cpu('plugin') / cpu('bare')).toFixed(2)}x the floor`,
      target: '–',
      result: 'info',
    },
    {
      measure: '2. Exchange in a job: plugin − bare POST (fresh process, in process)',
      value: `${signedMs(above)} (${ms(median(inside('plugin')))} vs ${ms(median(inside('bare')))})`,
      target: `< ${TARGET_ABOVE_BARE_MS} ms`,
      result: verdict(above < TARGET_ABOVE_BARE_MS),
    },
    {
      measure: '2. Lower bound on the issue\'s terms: the SDK call + Architect\'s modules, none of the plugin\'s code',
      value: `${(median(wall('sdkArchitect')) / median(wall('bare'))).toFixed(2)}x the floor (SDK alone ${(median(wall('sdk')) / median(wall('bare'))).toFixed(2)}x); ${signedMs(keptAbove)} above bare in process`,
      target: `≤ ${TARGET_VS_FLOOR}x; < ${TARGET_ABOVE_BARE_MS} ms`,
      result: 'info',
    },
    {
      measure: '2. The plugin\'s own code, above that lower bound (plugin − SDK call with Architect\'s modules)',
      value: `${signedMs(median(wall('plugin')) - median(wall('sdkArchitect')))} wall, ${signedMs(median(inside('plugin')) - median(inside('sdkArchitect')))} in process`,
      target: '–',
      result: 'info',
    },
    {
      measure: '2. Exchange after warm-up: SDK exchange() − bare POST (one process)',
      value: `${signedMs(warmAbove)} (${ms(median(warm.sdk))} vs ${ms(median(warm.bare))})`,
      target: '–',
      result: 'info',
    },
  ]
  for (const cli of clis) {
    // In a job the plugin's exchange runs inside `arc`, whose Node process is running anyway;
    // the shell recipe's exchange is a process of its own. So the target compares the plugin's
    // in-process time (token → process.env, SDK load included) with the CLI's whole process.
    // The plugin in a fresh process of its own is shown too, for information.
    const cliWall = median(wall(`cli:${cli.path}`))
    const ratio = cliWall / median(inside('plugin'))
    rows.push({
      measure: `2. Exchange vs \`aws sts assume-role-with-web-identity\` (${cli.version}): plugin in arc / CLI process`,
      value: `${ratio.toFixed(1)}x faster (${ms(median(inside('plugin')), 0)} vs ${ms(cliWall, 0)})`,
      target: `≥ ${TARGET_VS_CLI}x`,
      result: verdict(ratio >= TARGET_VS_CLI),
    })
    rows.push({
      measure: `2. Same, the plugin in a Node process of its own (startup included)`,
      value: `${(cliWall / median(wall('plugin'))).toFixed(1)}x faster (${ms(median(wall('plugin')), 0)} vs ${ms(cliWall, 0)})`,
      target: '–',
      result: 'info',
    })
  }
  if (!clis.length) rows.push({ measure: '2. Exchange vs the AWS CLI', value: 'no `aws` installed', target: `≥ ${TARGET_VS_CLI}x`, result: 'skipped' })
  return rows
}
