/**
 * Shared plumbing for the end-to-end tests: the stand-ins, a simulated GitLab job running the
 * real `arc` from an app with the packed plugin installed, and the leak check that every
 * scenario goes through.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { installApp, runArc, stripAnsi, type App, type ArcResult, type InstallAppOptions } from '../support/harness.ts'
import { startStandIns, type StandIns, type StandInsOptions } from '../support/standins.ts'

export interface Run extends ArcResult {
  /** stdout and stderr, without colour and cursor codes. */
  output: string
  /** AWS SDK modules the arc process loaded: the plugin's bundle (STS_BUNDLE) or @aws-sdk/, @smithy/ files. */
  sdkModules: string[]
  /** Builtins the plugin's own modules took with an ES import, as `node:fs` (module-trace.mjs). */
  pluginEsBuiltins: string[]
  /** The app directory arc ran in (removed when the suite closes). */
  appDir: string
}

export const NODES = ['node22', 'node24'] as const
export type NodeName = (typeof NODES)[number]

export interface Suite {
  s: StandIns
  /** The Node that runs `arc` when a call does not say (each file runs its scenarios on both). */
  node: NodeName
  /** Run `arc <args>` in a fresh copy of the app, with the given job variables; checks for leaks. */
  arc (args: string[], opts?: { env?: Record<string, string | undefined>, app?: InstallAppOptions, node?: 'node22' | 'node24' | string, timeoutMs?: number }): Promise<Run>
  /** How many outputs the leak check has examined, and the secrets it looked for. */
  leakChecks: { outputs: number, secretsSeen: Set<string> }
  close (): Promise<void>
}

const TRACE = join(import.meta.dirname, 'module-trace.mjs')
/** The exchange's SDK as the packed plugin has it (scripts/bundle-sdk.ts), as module-trace.mjs names it. */
export const STS_BUNDLE = 'arc-plugin-gitlab-oidc/dist/plugin/sts-sdk.cjs'

/** Values that must never appear in any output: ID tokens and issued secrets. */
export function secretsOf (s: StandIns, env: Record<string, string | undefined>): string[] {
  const secrets: string[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue
    if (/TOKEN|JWT/.test(name) && value.split('.').length === 3) {
      secrets.push(value, value.split('.')[2]!)
    }
    if (name === 'AWS_SECRET_ACCESS_KEY' || name === 'AWS_SESSION_TOKEN') secrets.push(value)
  }
  for (const session of s.aws.sessions) secrets.push(session.secretAccessKey, session.sessionToken)
  return secrets.filter(v => v.length >= 8)
}

export async function startSuite (options: StandInsOptions = {}): Promise<Suite> {
  const s = await startStandIns(options)
  const leakChecks = { outputs: 0, secretsSeen: new Set<string>() }
  const apps: App[] = []
  return {
    s,
    node: 'node22',
    leakChecks,
    async arc (this: Suite, args, opts = {}) {
      const app = await installApp(opts.app ?? {})
      apps.push(app)
      const traceFile = join(mkdtempSync(join(tmpdir(), 'arc-trace-')), 'modules.txt')
      const env = { ...opts.env, NODE_OPTIONS: `--import=${TRACE}`, ARC_E2E_MODULE_TRACE: traceFile }
      const result = await runArc(app.dir, args, {
        env, endpoint: s.aws.endpoint, node: opts.node ?? this.node, timeoutMs: opts.timeoutMs ?? 120_000,
      })
      const output = stripAnsi(result.stdout + result.stderr)
      // The leak check, for every scenario: the job's tokens and every secret STS has issued so far.
      const secrets = secretsOf(s, opts.env ?? {})
      for (const secret of secrets) {
        leakChecks.secretsSeen.add(secret)
        assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `output of \`arc ${args.join(' ')}\` contains a secret (${secret.slice(0, 4)}…)`)
      }
      const email = opts.env?.GITLAB_USER_EMAIL
      if (email) assert.ok(!output.includes(email), `output of \`arc ${args.join(' ')}\` contains the user's e-mail`)
      leakChecks.outputs++
      const traced = existsSync(traceFile) ? readFileSync(traceFile, 'utf8').split('\n').filter(Boolean) : []
      const sdkModules = traced.filter(line => !line.startsWith('import '))
      const pluginEsBuiltins = traced.filter(line => line.startsWith('import ')).map(line => line.slice('import '.length))
      return { ...result, output, sdkModules, pluginEsBuiltins, appDir: app.dir }
    },
    async close () {
      for (const app of apps) app.remove()
      await s.close()
    },
  }
}

/** The non-STS calls made since `from` (a sequence number from aws.calls). */
export function awsCallsSince (s: StandIns, from: number) {
  return s.aws.awsCalls().filter(c => c.seq > from)
}
export function stsCallsSince (s: StandIns, from: number) {
  return s.aws.stsCalls().filter(c => c.seq > from)
}
export function lastSeq (s: StandIns): number {
  return s.aws.calls.at(-1)?.seq ?? 0
}

/**
 * Exactly one exchange, for the role and session name, and every other AWS call since `from`
 * signed by the session STS issued (its key and session token) and accepted. Returns those calls.
 */
export function assertSignedBySession (s: StandIns, from: number, role: string, sessionName: string, durationSeconds?: number) {
  const sts = stsCallsSince(s, from)
  assert.equal(sts.length, 1, 'exactly one STS call')
  assert.equal(sts[0]!.action, 'AssumeRoleWithWebIdentity')
  assert.equal(sts[0]!.status, 200)
  assert.equal(sts[0]!.assume?.roleArn, role)
  assert.equal(sts[0]!.assume?.sessionName, sessionName)
  if (durationSeconds !== undefined) assert.equal(sts[0]!.assume?.durationSeconds, durationSeconds)
  const session = s.aws.sessions.at(-1)!
  const calls = awsCallsSince(s, from)
  assert.ok(calls.length > 0, 'Architect called AWS')
  for (const call of calls) {
    assert.equal(call.principal, 'session', `${call.service}:${call.action} signed by the issued session`)
    assert.equal(call.accessKeyId, session.accessKeyId, `${call.service}:${call.action} used the issued key`)
    assert.equal(call.sessionToken, true)
    assert.ok(call.status < 500 && !['AccessDenied', 'InvalidClientTokenId', 'SignatureDoesNotMatch'].includes(call.errorCode ?? ''), `${call.service}:${call.action} accepted (${call.status} ${call.errorCode ?? ''})`)
  }
  assert.deepEqual(s.aws.unimplementedCalls(), [])
  return calls
}

/** The session name the plugin gives a GitLab job by default. */
export const sessionOf = (claims: { project_id: string, pipeline_id: string, job_id: string }): string => `gitlab-${claims.project_id}-${claims.pipeline_id}-${claims.job_id}`

/**
 * The plugin stayed out of it: no STS call, every AWS call signed with the given (developer's)
 * key, nothing printed by the plugin, no AWS SDK module loaded.
 */
export function assertIdle (s: StandIns, from: number, r: Run, accessKeyId: string): void {
  assert.equal(stsCallsSince(s, from).length, 0, 'no STS call')
  const calls = awsCallsSince(s, from)
  assert.ok(calls.length > 0, 'Architect called AWS')
  for (const call of calls) assert.equal(call.accessKeyId, accessKeyId, `${call.service}:${call.action} signed with the developer's key`)
  assert.doesNotMatch(r.output, /GitLab OIDC|gitlab-oidc/i, 'the plugin printed nothing')
  assert.deepEqual(r.sdkModules, [], 'the AWS SDK was not loaded')
}
