/**
 * `arc-gitlab-oidc doctor` (src/cli/doctor.ts), run in-process with its I/O passed in: the
 * settings of both stages with where each came from, the token's claims and expiry, a matching
 * trust condition, and with --exchange a real exchange against the loopback stand-ins. Exit
 * codes: 0 all good, 1 a problem was found, 2 usage. The token and the issued secrets never show.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as plain } from 'node:util'
import { DOCTOR_HELP } from '../../../src/cli/doctor.ts'
import { main } from '../../../src/cli/main.ts'
import { startGitLab, type GitLabStandIn } from '../../support/gitlab.ts'
import { gitlabTrustPolicy, startAws, type AwsStandIn } from '../../support/aws.ts'

interface Run { code: number, stdout: string, stderr: string, output: string }

const NOW = new Date('2026-11-26T12:00:00Z')
const T = Math.floor(NOW.getTime() / 1000)
const PRODUCTION = 'arn:aws:iam::111111111111:role/shop-production'
const STAGING_BOUNDARY = 'arn:aws:iam::222222222222:policy/shop-staging-boundary'
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}.c2lnbmF0dXJlLXNlY3JldA`
const claims = {
  iss: 'https://gitlab.example.com', aud: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main',
  project_path: 'acme/shop', ref: 'main', ref_type: 'branch', ref_protected: 'true', pipeline_id: '1001', job_id: '5005',
  exp: T + 1800, nbf: T - 10, iat: T - 10, user_email: 'dev@example.com',
}
const TOKEN = jwt(claims)

/** An app directory with this app.arc (none when undefined). */
function appDir (arc?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-doctor-'))
  if (arc !== undefined) writeFileSync(join(dir, 'app.arc'), arc)
  return dir
}
const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

async function run (args: string[], env: NodeJS.ProcessEnv, arc?: string, now = () => NOW): Promise<Run> {
  const cwd = appDir(arc)
  dirs.push(cwd)
  let stdout = ''
  let stderr = ''
  const code = await main([ 'doctor', ...args ], { env, cwd, now, stdout: s => { stdout += `${s}\n` }, stderr: s => { stderr += `${s}\n` } })
  return { code, stdout: plain(stdout), stderr: plain(stderr), output: plain(stdout + stderr) }
}

const ARC = `@app\nshop\n\n@gitlab-oidc\nproduction-role ${PRODUCTION}\nstaging-permissions-boundary ${STAGING_BOUNDARY}\n`
const job = { GITLAB_CI: 'true', CI_SERVER_URL: 'https://gitlab.example.com' }

describe('arguments', () => {
  it('--help prints the usage on stdout, exit 0', async () => {
    const r = await run([ '-h' ], {})
    assert.deepEqual([ r.code, r.stdout, r.stderr ], [ 0, `${DOCTOR_HELP}\n`, '' ])
  })

  it('an unknown option, a word before --, or --stage with a command line is a usage error (2), the CLI\'s one style, and nothing is checked', async () => {
    for (const [ args, message ] of [
      [ [ '--bogus' ], /Unknown option '--bogus'/ ],
      [ [ 'production' ], /Unexpected argument "production": an arc command line goes after --/ ],
      [ [ '--stage', 'production', '--', 'deploy' ], /Give --stage or an arc command line after --, not both/ ],
    ] as const) {
      const r = await run([ ...args ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, ARC)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, message)
      assert.match(r.stderr, /\n {2}\| See: arc-gitlab-oidc help doctor\n$/)
      assert.equal(r.stdout, '')
    }
  })

  it('--stage is staging or production', async () => {
    const r = await run([ '--stage', 'prod' ], {}, ARC)
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^× GitLab OIDC: --stage must be staging or production, got "prod"\n/)
  })
})

describe('settings', () => {
  it('both stages\' role and boundary with where each came from, and what is missing', async () => {
    const r = await run([], { ...job, GITLAB_OIDC_TOKEN: TOKEN, ARC_REGION: 'eu-west-1' }, ARC)
    assert.match(r.stdout, /^Settings\n/)
    assert.match(r.stdout, /production role \.+ arn:aws:iam::111111111111:role\/shop-production \(from `production-role` in @gitlab-oidc \(app\.arc\)\)/)
    assert.match(r.stdout, /production boundary \.+ none: roles Architect creates for production get no permissions boundary/)
    assert.match(r.stdout, /staging role \.+ none: set ARC_ROLE_ARN or `staging-role` in @gitlab-oidc/)
    assert.match(r.stdout, /staging boundary \.+ arn:aws:iam::222222222222:policy\/shop-staging-boundary \(from `staging-permissions-boundary`/)
    assert.match(r.stdout, /duration \.+ 3600 s \(from /)
    assert.match(r.stdout, /unprotected production \.+ refused/)
  })

  it('a setting that cannot be used is the one problem reported, before any token is read', async () => {
    const r = await run([], { ...job, GITLAB_OIDC_TOKEN: TOKEN, ARC_ROLE_DURATION: '60' }, ARC)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /× GitLab OIDC: Invalid CI variable\n.*problem 1 \.+ CI variable ARC_ROLE_DURATION .*"60"/)
    assert.doesNotMatch(r.output, /ID token|No problems/)
  })
})

describe('the token', () => {
  it('a good token: its claims, how long it is valid, a matching condition; no problem; never the token or user_email', async () => {
    const r = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, ARC)
    assert.equal(r.code, 0, r.output)
    assert.match(r.stdout, /\nID token \(from CI variable GITLAB_OIDC_TOKEN\)\n/)
    assert.match(r.stdout, /subject \.+ project_path:acme\/shop:ref_type:branch:ref:main/)
    assert.match(r.stdout, /valid for \.+ 30 min more \(until /)
    const condition = JSON.parse(/A trust-policy condition that matches this job:\n(\{[\s\S]*?\n\})/.exec(r.stdout)![1]!)
    assert.deepEqual(condition, { Condition: { StringEquals: {
      'gitlab.example.com:aud': 'https://gitlab.example.com',
      'gitlab.example.com:sub': 'project_path:acme/shop:ref_type:branch:ref:main',
    } } })
    assert.ok(r.stdout.endsWith('\nNo problems found.\n'))
    assert.equal(r.stderr, '')
    assert.ok(!r.output.includes(TOKEN.split('.')[1]!) && !r.output.includes('dev@example.com'))
  })

  it('no token: where to declare one (with the job\'s instance as audience), or --token-file', async () => {
    const r = await run([ '--stage', 'production' ], { ...job, ARC_OIDC_TOKEN_VARIABLE: 'DEPLOY_TOKEN' }, ARC)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /× GitLab OIDC: No ID token in DEPLOY_TOKEN \(named by CI variable ARC_OIDC_TOKEN_VARIABLE\)\n/)
    assert.match(r.stderr, /Add this to the deploy job in \.gitlab-ci\.yml:\n {2}\| {5}id_tokens:\n {2}\| {7}DEPLOY_TOKEN:\n {2}\| {9}aud: https:\/\/gitlab\.example\.com\n/)
    assert.match(r.stderr, /Or check a token you have: arc-gitlab-oidc doctor --token-file FILE\.\n {2}\| A deploy in this job would stop here, before any AWS call\.\n/)
    assert.ok(r.stdout.endsWith('\n1 problem found.\n'))
    // GitLab withholds tokens from a reused path: the refusal says what GitLab's message means and the fix
    assert.match(r.stderr, /If GitLab said "ID token issuance is disabled" for this job: another project used this path before\. Set the project's\n {2}\| {3}ci_id_token_sub_claim_components to a project_id subject \(e\.g\. project_id,ref_type,ref/)
    assert.match(r.stderr, /template: SubClaimComponents=project_id,ref_type,ref with GitLabProjectId; or trust-policy --sub-claim-components \.\.\. --project-id <id>/)
  })

  it('the sub format: the trust-policy command with the job\'s project ID; for a project_path subject, the project_id one that survives a reused path', async () => {
    const r = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: jwt({ ...claims, project_id: '4242' }) }, ARC)
    assert.equal(r.code, 0, r.output)
    assert.match(r.stdout, /trust policy \.+ npx arc-gitlab-oidc trust-policy --project acme\/shop --project-id 4242 --branch main --account <id>/)
    assert.match(r.stdout, /reused path \.+ if GitLab ever stops this project's jobs with "ID token issuance is disabled", another project used its path before:\n.*switch to a project_id subject \(project_id,ref_type,ref\) and trust it with --sub-claim-components project_id,ref_type,ref --project-id 4242/)
    const byId = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: jwt({ ...claims, project_id: '4242', sub: 'project_id:4242:ref_type:branch:ref:main:ref_protected:true' }) }, ARC)
    assert.match(byId.stdout, /sub claim components \.+ project_id,ref_type,ref,ref_protected \(customised: trust policies must use this format\)/)
    assert.match(byId.stdout, /--project-id 4242 --branch main --sub-claim-components project_id,ref_type,ref,ref_protected --account <id>/)
    assert.doesNotMatch(byId.stdout, /reused path/)
  })

  it('an expired token is a problem; an unprotected ref gets a note', async () => {
    const expired = jwt({ ...claims, exp: T - 600, ref: 'feature/x', ref_protected: 'false' })
    const r = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: expired }, ARC)
    assert.equal(r.code, 1)
    assert.match(r.stdout, /valid for \.+ expired/)
    assert.match(r.stderr, /× GitLab OIDC: The ID token cannot be used: it expired at 2026-11-26T11:50:00\.000Z, 10 min ago/)
    assert.match(r.stdout, /note \.+ ref `feature\/x` is not protected: production deploys from it are refused\n/)
  })

  it('a token that is not a JWT is a problem, not echoed', async () => {
    const r = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: 'glpat-not-a-jwt' }, ARC)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /× GitLab OIDC: The ID token in CI variable GITLAB_OIDC_TOKEN is not a JWT/)
    assert.ok(!r.output.includes('glpat-not-a-jwt'))
  })

  it('--token-file reads that file, whatever the job\'s variables hold', async () => {
    const file = join(appDir(), 'token')
    writeFileSync(file, `${jwt({ ...claims, ref: 'from-file', sub: 'project_path:acme/shop:ref_type:branch:ref:from-file' })}\n`)
    const r = await run([ '--token-file', file, '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, ARC)
    assert.equal(r.code, 0, r.output)
    assert.ok(r.stdout.includes(`\nID token (from file ${file} (named by `), r.stdout)
    assert.match(r.stdout, /ref \.+ from-file/)
  })
})

describe('off GitLab: the origin the plugin itself would see (issue 16)', () => {
  const eks = {
    iss: 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC', aud: 'sts.amazonaws.com', sub: 'system:serviceaccount:ci:deployer',
    exp: T + 1800, iat: T - 10, ref_protected: 'false',
  }
  const STAGING = 'arn:aws:iam::222222222222:role/shop-staging'
  const tokenFile = (token: string): string => {
    const file = join(appDir(), 'token')
    writeFileSync(file, `${token}\n`)
    return file
  }

  it('no token: AWS_WEB_IDENTITY_TOKEN_FILE, not GitLab\'s id_tokens:, and GITLAB_OIDC_TOKEN is not read there', async () => {
    // AWS_ROLE_ARN without AWS_WEB_IDENTITY_TOKEN_FILE: the plugin does nothing here, and doctor says so
    const r = await run([], { AWS_ROLE_ARN: STAGING, GITLAB_OIDC_TOKEN: TOKEN }, ARC)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /× GitLab OIDC: The plugin does nothing here: not a GitLab job \(GITLAB_CI is not true, and AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE are not both set\)\n {2}\| Run doctor in the deploy job, or check a token with --token-file FILE\.\n$/)
    assert.doesNotMatch(r.output, /id_tokens|\.gitlab-ci\.yml/)
    // a file that is not there: AWS's variable named, not GitLab's id_tokens:
    const missing = await run([], { AWS_ROLE_ARN: STAGING, AWS_WEB_IDENTITY_TOKEN_FILE: '/nonexistent/token' }, ARC)
    assert.match(missing.stderr, /AWS_WEB_IDENTITY_TOKEN_FILE names \/nonexistent\/token, which cannot be read: ENOENT/)
    assert.match(missing.stderr, /the OIDC token your platform issues/)
    assert.doesNotMatch(missing.output, /id_tokens|\.gitlab-ci\.yml/)
    // the same environment in a GitLab job: GitLab's advice
    const inJob = await run([ '--stage', 'production' ], { ...job, ARC_OIDC_TOKEN_VARIABLE: 'DEPLOY_TOKEN' }, ARC)
    assert.match(inJob.stderr, /Add this to the deploy job in \.gitlab-ci\.yml/)
  })

  it('a platform\'s token (AWS_WEB_IDENTITY_TOKEN_FILE or --token-file): its claims, and no GitLab sub-format, fork or protected-ref advice', async () => {
    const file = tokenFile(jwt(eks))
    for (const [ args, env ] of [
      [ [], { AWS_ROLE_ARN: STAGING, AWS_WEB_IDENTITY_TOKEN_FILE: file } ],
      [ [ '--token-file', file, '--stage', 'production' ], {} ],
    ] as const) {
      const r = await run([ ...args ], { ...env }, ARC)
      assert.equal(r.code, 0, r.output)
      assert.match(r.stdout, /subject \.+ system:serviceaccount:ci:deployer/)
      assert.doesNotMatch(r.output, /sub claim|GitLab builds|not protected|Fork|id_tokens/)
    }
    // in a GitLab job the same token gets GitLab's notes
    const inJob = await run([ '--token-file', file, '--stage', 'production' ], { ...job }, ARC)
    assert.match(inJob.stdout, /sub claim \.+ system:serviceaccount:ci:deployer is in none of the formats GitLab builds/)
  })
})

describe('--exchange', () => {
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  let roleArn: string

  before(async () => {
    gitlab = await startGitLab()
    aws = await startAws()
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ gitlab.audience ] })
    roleArn = aws.addRole({
      name: 'shop-production',
      trustPolicy: gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: gitlab.audience, sub: 'project_path:acme/oidc-example:ref_type:branch:ref:main' }),
    })
  })
  after(async () => {
    await aws.close()
    await gitlab.close()
  })

  const exchangeEnv = (token: string) => ({
    ...gitlab.jobEnv(gitlab.claims(), { idTokens: { GITLAB_OIDC_TOKEN: token } }),
    ARC_ROLE_ARN: roleArn,
    AWS_ENDPOINT_URL: aws.endpoint,
  })

  it('no role for the stage: a problem, and no call to STS', async () => {
    const before = aws.stsCalls().length
    const r = await run([ '--exchange' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, ARC)
    assert.equal(r.code, 1)
    // the deploy's own refusal, before any exchange
    assert.match(r.stderr, /× GitLab OIDC: This job has an ID token but no IAM role to assume for staging, and no other AWS credentials\n/)
    assert.equal(aws.stsCalls().length, before)
  })

  it('a real exchange: the assumed role and session, never the issued secrets', async () => {
    const r = await run([ '--exchange', '--stage', 'production' ], exchangeEnv(gitlab.mint()), undefined, () => new Date())
    assert.equal(r.code, 0, r.output)
    const session = aws.sessions.at(-1)!
    assert.match(r.stdout, new RegExp(`✓ GitLab OIDC Exchange for production: assumed arn:aws:sts::${aws.accountId}:assumed-role/shop-production/${session.sessionName}\\n`))
    assert.match(r.stdout, /session \.+ gitlab-\d+-\d+-\d+\n/)
    assert.match(r.stdout, /attempts \.+ 1\n/)
    for (const secret of [ session.secretAccessKey, session.sessionToken ]) assert.ok(!r.output.includes(secret))
  })

  it('off GitLab, a refusal says what the token (not GitLab) asserted, and gives no GitLab fix', async () => {
    const file = join(appDir(), 'token')
    writeFileSync(file, gitlab.mint({ ref: 'feature' }))
    const r = await run([ '--exchange', '--stage', 'production' ],
      { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ENDPOINT_URL: aws.endpoint }, undefined, () => new Date())
    assert.equal(r.code, 1, r.output)
    assert.equal(aws.stsCalls().at(-1)!.errorCode, 'AccessDenied')
    assert.match(r.stderr, /The token asserted \(ID token claims\):/)
    assert.doesNotMatch(r.stderr, /GitLab asserted|trust-policy --project/)
    assert.match(r.stderr, /set AWS_ROLE_ARN to another role/)
    assert.match(r.stderr, /session \.+ arc-web-identity-\d+, /)
  })

  it('a refusal is explained as at load time, footed "No credentials were issued."', async () => {
    const r = await run([ '--exchange', '--stage', 'production' ], exchangeEnv(gitlab.mint({ ref: 'feature' })), undefined, () => new Date())
    assert.equal(r.code, 1)
    assert.equal(aws.stsCalls().at(-1)!.errorCode, 'AccessDenied')
    assert.match(r.stderr, /trust policy does not match this job \(AccessDenied\)/)
    assert.match(r.stderr, /\| No credentials were issued\.\n/)
    assert.doesNotMatch(r.stderr, /Architect was stopped/)
  })
})

describe('the template check (issue 25): doctor runs the deploy\'s, on the template Architect generates', () => {
  const role = 'arn:aws:iam::111111111111:role/shop-production-deploy'
  const route = '/api/v1/organizations/:orgid/members/:memberid/permissions'
  const arc = (extra: string) => `@app\nshop\n\n@http\nget ${route}\n\n${extra}@gitlab-oidc\nproduction-role ${role}\n`

  it('a name CloudFormation would shorten, a managed policy of another account: refused (exit 1), one message naming each', async () => {
    const r = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, arc('@aws\npolicies arn:aws:iam::222222222222:policy/shared\n\n'))
    assert.equal(r.code, 1, r.output)
    assert.match(r.stderr, /× GitLab OIDC: A resource of ShopProduction cannot be deployed under the production role of the IAM template/)
    assert.match(r.stderr, /it shortens the name, which then may not start with ShopProduction-/)
    assert.match(r.stderr, /managed policy arn:aws:iam::222222222222:policy\/shared is in account 222222222222/)
    assert.match(r.stderr, /A deploy would stop there, before CloudFormation starts\./)
  })

  it('an app the role fits: said so; a role that is not the template\'s: not checked', async () => {
    const fits = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, arc('').replace(route, '/'))
    assert.equal(fits.code, 0, fits.output)
    assert.match(fits.stdout, /Template check: every resource of ShopProduction is one the production role may create/)
    const other = await run([ '--stage', 'production' ], { ...job, GITLAB_OIDC_TOKEN: TOKEN }, arc('').replace('shop-production-deploy', 'deployer'))
    assert.equal(other.code, 0, other.output)
    assert.doesNotMatch(other.output, /Template check/)
  })
})
