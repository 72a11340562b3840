/**
 * Property test of the CLI's argv, run as a process (`arc-gitlab-oidc` from the sources, with a
 * timeout): any arguments, including the job's token pasted where a command, an option or a file
 * belongs. STS is a loopback stand-in that records every request.
 * Contract: exit 0, 1 or 2 within the timeout; never a stack trace; the token is never in stdout
 * or stderr; no request reaches STS unless the token passed every check.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import fc from 'fast-check'
import { runProcessGroup } from '../../support/process.ts'
import { jwt, params } from '../../support/property.ts'

const MAIN = resolve(import.meta.dirname, '../../../src/cli/main.ts')
const t = Math.floor(Date.now() / 1000)
const claims = { iss: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main', aud: 'https://gitlab.example.com', exp: t + 3600, project_path: 'acme/shop', ref: 'main', ref_type: 'branch', ref_protected: 'true' }
const TOKEN = jwt(claims)
const EXPIRED = jwt({ ...claims, exp: t - 3600 })

let sts: Server
let stsUrl = ''
const stsRequests: string[] = []
before(async () => {
  sts = createServer((req, res) => { stsRequests.push(req.url ?? ''); res.writeHead(400, { 'content-type': 'text/xml' }).end('<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>') })
  await new Promise<void>(ok => sts.listen(0, '127.0.0.1', ok))
  const address = sts.address()
  stsUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
after(() => { sts?.close() })

const app = mkdtempSync(join(tmpdir(), 'oidc-cli-prop-'))
writeFileSync(join(app, 'app.arc'), '@app\nshop\n@gitlab-oidc\nstaging-role arn:aws:iam::111111111111:role/shop-staging\n')

async function cli (args: string[], token: string) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', GITLAB_CI: 'true', CI_SERVER_URL: 'https://gitlab.example.com',
    GITLAB_OIDC_TOKEN: token, AWS_ENDPOINT_URL_STS: stsUrl, AWS_MAX_ATTEMPTS: '1', ARC_OIDC_TIMEOUT: '5', AWS_REGION: 'us-west-2',
  }
  return runProcessGroup(process.execPath, [MAIN, ...args], { cwd: app, env, timeoutMs: 20_000 })
}

const word = (token: string) => fc.oneof(
  fc.constantFrom('doctor', 'trust-policy', 'help', '--help', '-h', '--version', '--token-file', '--stage', 'production', '--exchange', '--project', 'acme/shop', '--branch', '--account', '111111111111', '--', '-x'),
  fc.constant(token), fc.constant(`--token-file=${token}`), fc.constant(`--${token}`), fc.string({ maxLength: 12 }),
)

test('any argv, with the token anywhere in it: an exit code, no stack trace, no token, no STS call after a refusal', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(TOKEN, EXPIRED), fc.nat(), async (token, n) => {
    const args = fc.sample(fc.array(word(token), { minLength: 1, maxLength: 5 }), { seed: n, numRuns: 1 })[0]!
    const before = stsRequests.length
    const r = await cli(args, token)
    assert.equal(r.timedOut, false, `timed out: ${args.join(' ')}`)
    assert.ok([0, 1, 2].includes(r.code ?? -1), `exit ${r.code} for ${JSON.stringify(args)}\n${r.stderr}`)
    const output = r.stdout + r.stderr
    assert.ok(!output.includes(token), `the token is printed for ${JSON.stringify(args)}:\n${output}`)
    assert.ok(!/^\s+at .+:\d+:\d+\)?$/m.test(output), `a stack trace for ${JSON.stringify(args)}:\n${output}`)
    if (token === EXPIRED || /A deploy in this job would stop here, before any AWS call/.test(output)) assert.equal(stsRequests.length, before, 'no STS call after a refusal')
  }), params(12))
})

test('example: the token as a command, as doctor\'s argument, and as --token-file is described, never shown', async () => {
  for (const args of [[TOKEN], ['doctor', TOKEN], ['doctor', '--token-file', TOKEN]]) {
    const r = await cli(args, TOKEN)
    const output = r.stdout + r.stderr
    assert.ok(!output.includes(TOKEN), output)
    assert.match(output, /a JWT, [\d,]+ characters/, args.length === 1 ? 'command' : args.join(' ').slice(0, 20))
    assert.ok(!output.includes('AWS_WEB_IDENTITY_TOKEN_FILE'), 'doctor --token-file never names a variable the user did not set')
  }
})

test('example: doctor --token-file with a missing file names --token-file', async () => {
  const r = await cli(['doctor', '--token-file', '/nonexistent/token'], TOKEN)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /--token-file names \/nonexistent\/token, which cannot be read: ENOENT/)
  assert.ok(!r.stderr.includes('AWS_WEB_IDENTITY_TOKEN_FILE'))
})
