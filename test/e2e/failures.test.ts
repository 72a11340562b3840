/**
 * Issue 3, end to end: bad inputs and denials through the real `arc` CLI. Each must exit
 * non-zero with its specific message, and Architect must not have made a single SSM, S3 or
 * CloudFormation call. Every output also goes through the leak check (e2e.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXAMPLE_APP } from '../support/harness.ts'
import type { ClaimOverrides, MintOptions } from '../support/gitlab.ts'
import type { StsFault } from '../support/aws.ts'
import type { StandIns } from '../support/standins.ts'
import { NODES, awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')
const now = () => Math.floor(Date.now() / 1000)
// What a GitLab *File* variable gives a job: the path of a file holding the value.
const fileVariable = join(mkdtempSync(join(tmpdir(), 'gitlab-file-var-')), 'ARC_ROLE_ARN')
writeFileSync(fileVariable, 'arn:aws:iam::111111111111:role/oidc-example-production-deploy\n')

interface Case {
  name: string
  args?: string[]
  claims?: ClaimOverrides
  /** A function is called when the test runs (token times relative to then, not to when the table was built). */
  mint?: MintOptions | (() => MintOptions)
  /** Job variables on top of the job's own (undefined removes one). */
  env?: (s: StandIns, token: string) => Record<string, string | undefined>
  arc?: string
  faults?: StsFault[]
  /** STS calls expected: 0 for pre-flight refusals. */
  sts: number
  expect: RegExp[]
}

const cases: Case[] = [
  // Pre-flight: nothing is sent anywhere.
  { name: 'a role but no ID token', env: () => ({ GITLAB_OIDC_TOKEN: undefined }), sts: 0,
    expect: [/A role is configured for production but this job has no ID token/, /id_tokens:\n.*\| +GITLAB_OIDC_TOKEN:\n.*\| +aud: http:\/\/127\.0\.0\.1:\d+/] },
  { name: 'a token-variable named but empty', env: () => ({ ARC_OIDC_TOKEN_VARIABLE: 'DEPLOY_TOKEN' }), sts: 0,
    expect: [/No ID token in DEPLOY_TOKEN \(named by CI variable ARC_OIDC_TOKEN_VARIABLE\)/, /DEPLOY_TOKEN:/] },
  { name: 'a token but no role and no other credentials', arc: exampleArc.replace(/@gitlab-oidc[\s\S]*$/, ''), sts: 0,
    expect: [/ID token but no IAM role to assume for production, and no other AWS credentials/, /ARC_ROLE_ARN/, /@gitlab-oidc/, /protected\* CI variable is only given to jobs on protected branches/] },
  { name: 'a token that is not a JWT', env: () => ({ GITLAB_OIDC_TOKEN: 'glpat-this-is-not-a-jwt' }), sts: 0,
    expect: [/The ID token in CI variable GITLAB_OIDC_TOKEN is not a JWT/] },
  { name: 'an expired token (pre-flight, beyond 60 s of skew)', mint: { expired: true }, sts: 0,
    expect: [/The ID token cannot be used: it expired at .*, 60 min ago/, /subject \.+ project_path:acme\/oidc-example:ref_type:branch:ref:main/] },
  { name: 'a token not valid yet', mint: () => ({ issuedAt: now() + 3600 }), claims: {}, env: (s, t) => ({ GITLAB_OIDC_TOKEN: t }), sts: 0,
    expect: [/it is not valid before/] },
  { name: 'a role ARN that is not one', env: () => ({ ARC_ROLE_ARN: 'arn:aws:iam::1111:role/deploy' }), sts: 0,
    expect: [/CI variable ARC_ROLE_ARN is not an IAM role ARN: "arn:aws:iam::1111:role\/deploy"/] },
  { name: 'a duration out of range', env: () => ({ ARC_ROLE_DURATION: '60' }), sts: 0,
    expect: [/CI variable ARC_ROLE_DURATION must be a whole number of seconds from 900 to 43200, got "60"/] },
  { name: 'a bad duration in the pragma', arc: `${exampleArc}duration 2h\n`, sts: 0,
    expect: [/`duration` in @gitlab-oidc \(app\.arc\) must be a whole number of seconds/] },
  { name: 'a session name STS would refuse', env: () => ({ ARC_ROLE_SESSION_NAME: 'deploy by me!' }), sts: 0,
    expect: [/CI variable ARC_ROLE_SESSION_NAME is not a valid STS session name/] },
  { name: 'a typo in the pragma', arc: exampleArc.replace('production-role', 'prodution-role'), sts: 0,
    expect: [/Unknown setting `prodution-role` in @gitlab-oidc \(app\.arc\)/] },
  { name: '`arc deploy production` (bare word deploys staging)', args: ['deploy', 'production'], sts: 0,
    expect: [/`arc deploy production` would deploy the STAGING stack/, /arc deploy --production/] },
  { name: 'production from an unprotected branch', claims: { ref: 'feature/x', ref_protected: 'false' }, sts: 0,
    expect: [/Refusing a production deploy from branch `feature\/x`, which is not protected/, /allow-unprotected-production true/, /ARC_ALLOW_UNPROTECTED_PRODUCTION=true/] },
  { name: 'a permissions boundary that is not a policy ARN', env: () => ({ ARC_PERMISSIONS_BOUNDARY: 'oidc-example-production-boundary' }), sts: 0,
    expect: [/Invalid CI variable$/m, /CI variable ARC_PERMISSIONS_BOUNDARY is not an IAM managed policy ARN: "oidc-example-production-boundary"/, /Settings → CI\/CD → Variables/] },
  { name: 'a boundary in another account than the role', arc: exampleArc.replace('policy/oidc-example-production-boundary', 'policy/x').replace('111111111111:policy/x', '222222222222:policy/x'), sts: 0,
    expect: [/Invalid @gitlab-oidc setting$/m, /is in account 222222222222, but the production role .* is in 111111111111/] },
  { name: 'a GitLab File variable where a value was expected', env: () => ({ ARC_ROLE_ARN: fileVariable }), sts: 0,
    expect: [/CI variable ARC_ROLE_ARN is a GitLab \*File\* variable \(the job gets the path .*ARC_ROLE_ARN, not the value\)/, /change its type to \*Variable\*/] },
  { name: 'a production deploy from a job whose environment tier is not production', claims: { environment: 'staging', environment_protected: 'false' }, sts: 0,
    expect: [/Refusing a production deploy from a job whose GitLab environment is not production: staging \(deployment tier staging\)/, /ARC_ENVIRONMENT_CHECK=false/] },
  { name: 'a role outside the allowed accounts', env: () => ({ ARC_ALLOWED_ACCOUNTS: '222222222222 333333333333' }), sts: 0,
    expect: [/The role is in AWS account 111111111111, which is not an allowed account/, /222222222222, 333333333333 \(from CI variable ARC_ALLOWED_ACCOUNTS\)/] },

  // STS says no: one call, explained.
  { name: 'AccessDenied: the trust policy does not match (protected branch, production role)', claims: { ref: 'release', ref_protected: 'true' }, sts: 1,
    expect: [/trust policy does not match this job \(AccessDenied\)/, /subject \.+ project_path:acme\/oidc-example:ref_type:branch:ref:release/, /"127\.0\.0\.1:\d+:sub": "project_path:acme\/oidc-example:ref_type:branch:ref:release"/, /arc-gitlab-oidc trust-policy --project acme\/oidc-example --branch release/] },
  { name: 'InvalidIdentityToken: no OIDC provider for the issuer', mint: { iss: 'https://gitlab.unknown.example' }, sts: 1,
    expect: [/has no IAM OIDC identity provider for https:\/\/gitlab\.unknown\.example \(InvalidIdentityToken\)/, /create-open-id-connect-provider --url https:\/\/gitlab\.unknown\.example/] },
  { name: 'InvalidIdentityToken: incorrect audience', mint: { aud: 'sts.amazonaws.com' }, sts: 1,
    expect: [/The token's audience \(sts\.amazonaws\.com\) is not a client ID of the IAM OIDC provider/, /aud: </] },
  { name: 'InvalidIdentityToken: signed by a key the issuer does not publish', mint: { signWith: 'unknown-key-same-kid' }, sts: 1,
    expect: [/AWS did not accept the ID token \(InvalidIdentityToken\)/] },
  { name: 'ExpiredTokenException: expired for AWS, within our skew', mint: () => ({ issuedAt: now() - 3630 }), sts: 1,
    expect: [/AWS says the ID token has expired \(ExpiredTokenException\)/] },
  { name: 'ValidationError: duration above the role\'s MaxSessionDuration', env: () => ({ ARC_ROLE_DURATION: '7200' }), sts: 1,
    expect: [/The requested session of 7200 s is longer than the role allows \(ValidationError\)/, /--max-session-duration 7200/] },
  { name: 'IDPRejectedClaim', faults: ['idp-rejected'], sts: 1, expect: [/AWS rejected a claim of the ID token \(IDPRejectedClaim\)/] },
  { name: 'RegionDisabledException', faults: ['region-disabled'], sts: 1, expect: [/STS is not activated in us-west-2 for this account \(RegionDisabledException\)/] },
  { name: 'PackedPolicyTooLarge', faults: [{ status: 400, code: 'PackedPolicyTooLarge', message: 'Serialized token too large for session' }], sts: 1,
    expect: [/The session's policies or tags are too large \(PackedPolicyTooLarge\)/] },
]

for (const node of NODES) {
  describe(`arc on ${node}`, () => {
    before(() => { suite.node = node })

    for (const c of cases) {
      test(c.name, async () => {
        const { s } = suite
        const job = s.job(c.claims ?? {}, typeof c.mint === 'function' ? c.mint() : c.mint ?? {})
        const env = { ...job.env, ...c.env?.(s, job.token) }
        if (c.faults) s.aws.injectStsFaults(...c.faults)
        const from = lastSeq(s)
        const r = await suite.arc(c.args ?? ['deploy', '--production'], { env, ...(c.arc === undefined ? {} : { app: { arc: c.arc } }) })
        assert.notEqual(r.code, 0, `exit code for: ${r.output}`)
        for (const re of c.expect) assert.match(r.output, re)
        assert.equal((r.output.match(/× GitLab OIDC:/g) ?? []).length, 1, 'one message')
        assert.match(r.output, /Architect was stopped before any AWS call/)
        assert.deepEqual(awsCallsSince(s, from).map(call => `${call.service}:${call.action}`), [], 'no SSM, S3 or CloudFormation call')
        assert.equal(stsCallsSince(s, from).length, c.sts, 'STS calls')
        if (c.sts === 0) assert.deepEqual(r.sdkModules, [], 'a pre-flight refusal does not even load the AWS SDK')
        assert.doesNotMatch(r.output, /deploy-bot@example\.com/, 'user_email is never printed')
      })
    }
  })
}

test('the table covers each bad input and denial by name: pre-flight ones send nothing, STS refusals one call', () => {
  const names = (sts: number) => cases.filter(c => c.sts === sts).map(c => c.name)
  const preflight = [
    'a role but no ID token', 'a token-variable named but empty', 'a token but no role and no other credentials',
    'a token that is not a JWT', 'an expired token (pre-flight, beyond 60 s of skew)', 'a token not valid yet',
    'a role ARN that is not one', 'a duration out of range', 'a bad duration in the pragma', 'a session name STS would refuse',
    'a typo in the pragma', '`arc deploy production` (bare word deploys staging)', 'production from an unprotected branch',
    'a permissions boundary that is not a policy ARN', 'a boundary in another account than the role',
    'a GitLab File variable where a value was expected', 'a production deploy from a job whose environment tier is not production',
    'a role outside the allowed accounts',
  ]
  const refusals = [
    'AccessDenied: the trust policy does not match (protected branch, production role)',
    'InvalidIdentityToken: no OIDC provider for the issuer', 'InvalidIdentityToken: incorrect audience',
    'InvalidIdentityToken: signed by a key the issuer does not publish', 'ExpiredTokenException: expired for AWS, within our skew',
    'ValidationError: duration above the role\'s MaxSessionDuration', 'IDPRejectedClaim', 'RegionDisabledException', 'PackedPolicyTooLarge',
  ]
  assert.deepEqual(preflight.filter(n => !names(0).includes(n)), [], 'pre-flight refusals missing from the table')
  assert.deepEqual(refusals.filter(n => !names(1).includes(n)), [], 'STS refusals missing from the table')
  assert.equal(new Set(cases.map(c => c.name)).size, cases.length, 'each case has its own name')
})
