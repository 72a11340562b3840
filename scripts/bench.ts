/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --only load,exchange,deploy,footprint]`
 *
 * What the plugin costs, as ratios and differences measured side by side in one run: each
 * comparison alternates its variants round by round (so a slow phase of the machine hits
 * both), each side summarised by its median. Only loopback network: the GitLab issuer and the
 * AWS services are the stand-ins of test/support, started in this process. Nothing here is
 * asserted inside the tests; the targets are printed as pass/FAIL in the table at the end.
 *
 *   1. load      importing the plugin off GitLab vs an empty module; AWS SDK modules loaded (none)
 *   2. exchange  token → credentials in process.env: plugin vs a bare POST (the floor) vs
 *                configure-aws-credentials' dist bundle (BENCH_CONFIGURE_AWS_CREDENTIALS) vs the AWS CLI
 *   3. deploy    `arc deploy --production --dry-run`: in a job vs with credentials already set
 *   4. footprint packages and MB the plugin adds to a production install
 *   5. hostile   a 1 MB value and 100,000 environment variables: what each adds to what is printed
 *
 * The plugin is measured as a user has it: `npm pack`ed (its prepack builds dist/), installed
 * next to @architect/architect 12 (test/support/harness.ts). Every
 * child process runs on the project's Node 22 with a clean environment (nothing inherited).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ARCHITECT_VERSION, cleanEnv, installApp, installBase, nodeBinary, packPlugin } from '../test/support/harness.ts'
import { startStandIns } from '../test/support/standins.ts'
import { benchDeploy } from './bench/deploy.ts'
import { benchExchange, findAwsClis } from './bench/exchange.ts'
import { CONFIGURE_AWS_CREDENTIALS_HOWTO } from './bench/configure-aws-credentials.ts'
import { benchFootprint } from './bench/footprint.ts'
import { benchHostile } from './bench/hostile.ts'
import { benchLoad } from './bench/load.ts'
import type { Context, Row } from './bench/context.ts'
import { writeProbes } from './bench/probes.ts'

const SECTIONS = ['load', 'exchange', 'deploy', 'footprint', 'hostile'] as const
type Section = typeof SECTIONS[number]

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (opts.help) {
  console.log(`npm run bench [-- options]
  --quick          fewer rounds: a smoke run (about 30 s instead of about two minutes), noisier numbers
  --runs N         rounds of \`arc deploy --dry-run\` per variant (default 15, quick 4)
  --only LIST      comma-separated subset of: ${SECTIONS.join(', ')}
  BENCH_AWS_CLI=/path/to/aws[:/other/aws] chooses the AWS CLIs to compare with (default: every \`aws\` on PATH); =none skips them
  ${CONFIGURE_AWS_CREDENTIALS_HOWTO}
                   compares with GitHub's configure-aws-credentials action (its committed dist bundle); skipped without it`)
  process.exit(0)
}
const only = (opts.only ?? SECTIONS.join(',')).split(',').map(s => s.trim()).filter(Boolean)
const usage = (message: string): never => {
  console.error(`bench: ${message} (see npm run bench -- --help)`)
  process.exit(2)
}
for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) usage(`--only: unknown section ${s} (have ${SECTIONS.join(', ')})`)
const wants = (s: Section) => only.includes(s)
const quick = opts.quick!
const deployRuns = opts.runs ? Number(opts.runs) : quick ? 4 : 15
if (!Number.isInteger(deployRuns) || deployRuns < 1) usage(`--runs must be a positive integer, not ${opts.runs}`)
/** Rounds per comparison (each round runs every variant once). */
const rounds = {
  load: quick ? 12 : 60,
  exchange: quick ? 5 : 25,
  warm: quick ? 10 : 60,
  deploy: deployRuns,
}

const started = Date.now()
const node = nodeBinary('node22')
const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown CPU'
const pluginVersion = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }).version
const machine = `${cpu}, ${availableParallelism()} cores, Node ${nodeVersion}, ${process.platform}-${process.arch}`
const clis = wants('exchange') ? findAwsClis() : []

console.log(`# arc-plugin-gitlab-oidc ${pluginVersion} benchmarks${quick ? ' (--quick)' : ''}`)
const load = () => loadavg().map(l => l.toFixed(2)).join(' ')
console.log(`machine:   ${machine}; load average ${load()} at start`)
console.log(`compared:  @architect/architect ${ARCHITECT_VERSION}${wants('exchange') ? `; AWS CLI: ${clis.map(c => c.version).join(', ') || 'none installed'}; configure-aws-credentials: ${process.env.BENCH_CONFIGURE_AWS_CREDENTIALS ?? 'not given'}` : ''}`)
console.log(`rounds:    load ${rounds.load}, exchange ${rounds.exchange} (+${rounds.warm} in one process), deploy ${rounds.deploy} (each round runs every variant once, in rotating order)`)

const rows: Row[] = []
// In this process, on the sources: needs no install (and runs first, before the stand-ins share the CPU).
if (wants('hostile')) rows.push(...await benchHostile(quick))
if (only.some(s => s !== 'hostile')) await installed()

async function installed (): Promise<void> {
  process.stderr.write('preparing: npm pack, install next to Architect (cached under .cache/e2e)…\n')
  const tarball = await packPlugin()
  // An install step: npm may fetch package metadata its cache lacks (after a lockfile `npm ci`).
  await installBase(tarball, { online: true })
  const app = await installApp({ tarball })
  const s = await startStandIns()
  const probes = writeProbes()
  const ctx: Context = {
    node,
    probes,
    app,
    pluginDir: join(app.installDir, 'node_modules', 'arc-plugin-gitlab-oidc'),
    tarball,
    s,
    devEnv: extra => cleanEnv(node, { env: extra ?? {} }),
    jobEnv: extra => {
      const job = s.job()
      return { env: cleanEnv(node, { endpoint: s.aws.endpoint, env: { ...job.env, ...extra } }), token: job.token, claims: job.claims }
    },
    quick,
  }

  try {
    if (wants('load')) rows.push(...await benchLoad(ctx, rounds.load))
    if (wants('exchange')) rows.push(...await benchExchange(ctx, rounds.exchange, rounds.warm))
    if (wants('deploy')) rows.push(...await benchDeploy(ctx, rounds.deploy))
  }
  finally {
    await s.close()
    probes.remove()
    app.remove()
  }
  // Last, with the stand-ins stopped: three npm installs in parallel would disturb any timing.
  if (wants('footprint')) rows.push(...await benchFootprint(ctx))
}

console.log(`\n## Summary (${((Date.now() - started) / 1000).toFixed(0)} s${quick ? ', --quick' : ''})\n`)
console.log(table(rows))
console.log(`\nMachine: ${machine}; load average ${load()} at the end.`)
// A benchmark, not a test: a missed target is reported, and the exit code stays 0.
const failed = rows.filter(r => r.result === 'FAIL').length
if (failed) console.log(`${failed} target${failed > 1 ? 's' : ''} missed.`)

/** A Markdown table (pastes into the README as is), columns padded for the terminal. */
function table (rows: Row[]): string {
  const head: Row = { measure: 'measure', value: 'value', target: 'target', result: 'info' }
  const cells = [head, ...rows].map((r, i) => [r.measure, r.value, r.target, i === 0 ? 'result' : r.result])
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map(row => row[c]!.length)))
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`
  return [line(cells[0]!), `|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n')
}
