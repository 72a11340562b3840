/**
 * 5. Hostile input: what a huge value or a huge environment adds to what the plugin prints.
 *
 *   a 1 MB value      the CLI given a 1 MB argument (`arc-gitlab-oidc <1 MB>`: "Unknown command …"),
 *                     and an STS refusal whose message is 1 MB (explained and formatted as a deploy
 *                     prints it), each against the same with a short value
 *   100,000 variables the deploy's load-time flow (activate: preflight, exchange, hand-over, every
 *                     line scrubbed) in a job with 100,000 extra environment variables, against the
 *                     same job with its usual ~100
 *
 * In this process, on the sources (what `npm pack` compiles), each pair interleaved round by round;
 * the difference of the medians is the figure. The target is the issue's: each under 100 ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { main } from '../../src/cli/main.ts'
import { activate } from '../../src/plugin/activate.ts'
import { detect } from '../../src/plugin/detect.ts'
import { explainExchange } from '../../src/report/explain.ts'
import { formatProblem } from '../../src/report/format.ts'
import { keptSecrets, scrub } from '../../src/shared/redact.ts'
import { ExchangeError, type ExchangeContext } from '../../src/shared/sts.ts'
import { verdict, type Row } from './context.ts'
import { median, signedMs } from './util.ts'

const TARGET_MS = 100
const MB = 'x'.repeat(1 << 20)

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

/** Milliseconds of `f`, interleaved with `g`, `rounds` times each (one warm-up first); the medians' difference. */
async function added (rounds: number, hostile: () => Promise<unknown> | unknown, usual: () => Promise<unknown> | unknown): Promise<number> {
  await hostile()
  await usual()
  const a: number[] = [], b: number[] = []
  for (let i = 0; i < rounds; i++) {
    for (const [f, into] of (i % 2 ? [[usual, b], [hostile, a]] : [[hostile, a], [usual, b]]) as Array<[() => unknown, number[]]>) {
      const t = performance.now()
      await f()
      into.push(performance.now() - t)
    }
  }
  return median(a) - median(b)
}

function cliRun (arg: string): Promise<number> {
  return main([arg], { env: { GITLAB_OIDC_TOKEN: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' }, cwd: tmpdir(), now: () => new Date(), stdout: () => {}, stderr: () => {} })
}

const context: ExchangeContext = {
  roleArn: 'arn:aws:iam::111111111111:role/shop-staging', roleSource: 'CI variable ARC_ROLE_ARN', partition: 'aws', account: '111111111111',
  roleName: 'shop-staging', sessionName: 'gitlab-1-2-3', durationSeconds: 3600, durationSource: 'default 3600', region: 'us-west-2',
  claims: { iss: 'https://gitlab.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main', project_path: 'acme/shop', ref: 'main', ref_type: 'branch' },
  issuer: 'https://gitlab.com', issuerHost: 'gitlab.com', audiences: ['https://gitlab.com'], tokenSource: 'CI variable GITLAB_OIDC_TOKEN',
  tokenVariable: 'GITLAB_OIDC_TOKEN', origin: 'gitlab', stage: 'staging',
}

function stsRefusal (message: string): string {
  const kept = keptSecrets({ GITLAB_OIDC_TOKEN: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' })
  return scrub(formatProblem(explainExchange(new ExchangeError('AccessDenied', message, 403, [], false, 10), context)), kept.list())
}

/**
 * A job's load-time flow with a stand-in exchange: everything the plugin prints, scrubbed, for this
 * environment. Each run gets its own copy of the environment (made beforehand, untimed, its values
 * flat strings as process.env's are), so nothing one run learnt about it is reused by the next.
 */
function jobFlow (dir: string, extra: number, runs: number): () => Promise<unknown> {
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: 'https://gitlab.com', aud: 'https://gitlab.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main', project_path: 'acme/shop', ref: 'main', ref_type: 'branch', ref_protected: 'true', exp: now + 3600, iat: now, nbf: now }
  const env: NodeJS.ProcessEnv = {
    GITLAB_CI: 'true', CI: 'true', CI_SERVER_URL: 'https://gitlab.com', CI_PROJECT_PATH: 'acme/shop', CI_DEFAULT_BRANCH: 'main',
    ARC_ROLE_ARN: 'arn:aws:iam::111111111111:role/shop-staging', GITLAB_OIDC_TOKEN: `${b64({ alg: 'RS256' })}.${b64(claims)}.c2lnbmF0dXJl`,
  }
  for (let i = 0; i < 100 + extra; i++) env[`CI_EXTRA_VARIABLE_${i}`] = `value-${i}-${'v'.repeat(i % 40)}`
  const invocation = detect(env, ['node', '/app/node_modules/.bin/arc', 'deploy'])
  const copies = Array.from({ length: runs }, () => JSON.parse(JSON.stringify(env)) as NodeJS.ProcessEnv)
  return async () => activate(invocation, {
    env: copies.pop()!, cwd: dir, now: () => new Date(), out: () => {}, err: () => {},
    exchange: async request => ({
      accessKeyId: 'ASIAQWERTYUIOPASDFGH', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjE+abc/def==',
      expiration: new Date(Date.now() + 3600_000), assumedRoleArn: `arn:aws:sts::111111111111:assumed-role/shop-staging/${request.sessionName}`, attempts: 1, elapsedMs: 1,
    }),
  })
}

export async function benchHostile (quick: boolean): Promise<Row[]> {
  const rounds = quick ? 5 : 15
  const cli = await added(rounds, () => cliRun(MB), () => cliRun('x'))
  const sts = await added(rounds, () => stsRefusal(MB), () => stsRefusal('Not authorized to perform sts:AssumeRoleWithWebIdentity'))
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-hostile-'))
  try {
    writeFileSync(join(dir, 'app.arc'), '@app\nshop\n')
    const runs = quick ? 3 : 7
    const env = await added(runs, jobFlow(dir, 100_000, runs + 1), jobFlow(dir, 0, runs + 1))
    const row = (measure: string, ms: number): Row => ({ measure, value: signedMs(ms), target: `< ${TARGET_MS} ms`, result: verdict(ms < TARGET_MS) })
    return [
      row('hostile: a 1 MB CLI argument, added to its message', cli),
      row('hostile: a 1 MB STS error message, added to its explanation', sts),
      row('hostile: 100,000 environment variables, added to a deploy\'s load-time flow', env),
    ]
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
}
