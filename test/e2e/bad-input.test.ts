/**
 * Issue 13, end to end: bad input never crashes and never echoes a secret. One case per section
 * of the issue, through the real `arc` CLI with the packed plugin: exit 1, exactly one `×`
 * message, no stack trace, the job's token in neither stdout nor stderr (also the suite's leak
 * check), and no AWS call at all (the stand-ins record every call).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP } from '../support/harness.ts'
import type { ClaimOverrides } from '../support/gitlab.ts'
import type { StandIns } from '../support/standins.ts'
import { awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')

interface Case {
  name: string
  claims?: ClaimOverrides
  env: (s: StandIns, token: string) => Record<string, string | undefined>
  /** The app's manifest, when not the example app's. */
  arc?: string
  expect: RegExp[]
}

const cases: Case[] = [
  // Secrets printed: the token where a variable name belongs was echoed, signature included.
  { name: 'secrets: the token itself in ARC_OIDC_TOKEN_VARIABLE is described, never shown', env: (_s, token) => ({ ARC_OIDC_TOKEN_VARIABLE: token }),
    expect: [/CI variable ARC_OIDC_TOKEN_VARIABLE holds the token itself \(a JWT, [\d,]+ characters\)/] },
  { name: 'secrets: the token itself in AWS_WEB_IDENTITY_TOKEN_FILE is described, never shown',
    env: (_s, token) => ({ GITLAB_OIDC_TOKEN: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: token }),
    expect: [/AWS_WEB_IDENTITY_TOKEN_FILE holds the token itself \(a JWT, [\d,]+ characters\), where the path of a file holding the token belongs/] },
  // Crashes: an inherited property name as the token variable (`env[name]?.trim is not a function`).
  { name: 'crashes: ARC_OIDC_TOKEN_VARIABLE=constructor reads as a variable the job does not have', env: () => ({ ARC_OIDC_TOKEN_VARIABLE: 'constructor' }),
    expect: [/No ID token in constructor \(named by CI variable ARC_OIDC_TOKEN_VARIABLE\)/] },
  // Crashes: exp out of a Date's range and an object as a claim ended in a stack trace.
  { name: 'crashes: exp 1e13 and an object as a claim are one claim problem', claims: { exp: 1e13, environment_protected: { toString: 1 } } as unknown as ClaimOverrides, env: () => ({}),
    expect: [/The ID token cannot be used: claims of the wrong type: environment_protected \(an object\), exp \(a number that is not a time\)/] },
  { name: 'crashes: a bad AWS_REGION is a settings problem, not an STS refusal', env: () => ({ AWS_REGION: 'bad region' }), arc: exampleArc.replace(/^region .*\n/m, ''),
    expect: [/CI variable AWS_REGION is not an AWS region: "bad region"/] },
  // Wrong answers: the token variable holding a path (GitLab's File variable type) was "not a JWT (… 2 parts)".
  { name: 'wrong answers: a File variable as the token variable is named as such', env: () => ({ GITLAB_OIDC_TOKEN: join(EXAMPLE_APP, 'app.arc') }),
    expect: [/CI variable GITLAB_OIDC_TOKEN is a GitLab \*File\* variable/] },
  // Wrong answers: a `Bearer ` prefix was reported as "got 3 parts".
  { name: 'wrong answers: a Bearer prefix is said for what it is', env: (_s, token) => ({ GITLAB_OIDC_TOKEN: `Bearer ${token}` }),
    expect: [/is not a JWT: it starts with `Bearer `/] },
]

for (const c of cases) {
  test(c.name, async () => {
    const { s } = suite
    const job = s.job(c.claims ?? {})
    const env = { ...job.env, ...c.env(s, job.token) }
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env, ...(c.arc === undefined ? {} : { app: { arc: c.arc } }) })
    assert.equal(r.code, 1, r.output)
    for (const re of c.expect) assert.match(r.output, re)
    assert.equal(r.output.split('\n').filter(l => l.startsWith('×')).length, 1, 'exactly one × message')
    assert.doesNotMatch(r.output, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace')
    for (const stream of [r.stdout, r.stderr]) {
      assert.ok(!stream.includes(job.token), 'the token is not printed')
      assert.ok(!stream.includes(job.token.split('.')[2]!), 'nor its signature')
    }
    assert.equal(stsCallsSince(s, from).length, 0, 'no STS call')
    assert.deepEqual(awsCallsSince(s, from).map(call => `${call.service}:${call.action}`), [], 'no AWS call')
    assert.deepEqual(r.sdkModules, [], 'the AWS SDK was not even loaded')
  })
}
