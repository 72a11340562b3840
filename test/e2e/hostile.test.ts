/**
 * Issue 20, hostile input with the real `arc`: report paths that would overwrite the app, answers
 * that are not STS's or a success that does not check out (each fault mode of the STS stand-in),
 * token files that never end or are too long, and a Node older than Architect needs. For each: one
 * message, no stack trace, no hang past the deadline, no raw control character, no secret (the
 * suite's leak check), and no AWS call made with anything it was not meant to.
 *
 * The old Node: a `node20` devDependency when installed (node_modules/node20), else the machine's
 * /usr/bin/node when it is older than Architect 12's `engines` (>=22). The test names what it ran.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StsFault } from '../support/aws.ts'
import { installApp, runArc, stripAnsi } from '../support/harness.ts'
import { awsCallsSince, lastSeq, startSuite, stsCallsSince, type Run, type Suite } from './e2e.ts'

let suite: Suite
const dirs: string[] = []
before(async () => { suite = await startSuite() })
after(async () => {
  await suite?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** What every hostile run must not show: a stack trace, a raw control character (colours and cursor moves aside). */
function assertClean (r: Run): void {
  assert.equal(r.timedOut, false, 'no hang')
  assert.doesNotMatch(r.output, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace')
  assert.doesNotMatch(r.output, /TypeError|ReferenceError|SyntaxError/, 'no crash')
  // eslint-disable-next-line no-control-regex
  const raw = (r.stdout + r.stderr).replace(/\u001b\[[?0-9;]*[A-Za-z]/g, '').replace(/\r?\n/g, '')
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(raw, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/, 'no raw control character')
}

describe('report paths: refused with a warning, nothing overwritten, the deploy itself succeeds', () => {
  const cases: Array<[string, Record<string, string>, RegExp, string[]]> = [
    ['the manifest', { ARC_DEPLOY_DOTENV: 'app.arc' }, /Not writing the deploy reports: app\.arc is an existing file that is not a report of a previous deploy/, ['app.arc']],
    ['package.json', { ARC_DEPLOY_ANNOTATIONS: 'package.json' }, /package\.json is an existing file that is not a report/, ['package.json']],
    ['the same file twice', { ARC_DEPLOY_DOTENV: 'reports/out.txt', ARC_DEPLOY_ANNOTATIONS: 'reports/out.txt' }, /the dotenv and annotations reports are the same file, reports\/out\.txt/, []],
    ['a directory', { ARC_DEPLOY_DOTENV: 'src' }, /src is a directory/, []],
  ]
  for (const [what, variables, warns, unchanged] of cases) {
    test(what, async () => {
      const { s } = suite
      const job = s.job()
      const r = await suite.arc(['deploy', '--production'], { env: { ...job.env, ...variables } })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, warns)
      assert.match(r.output, /The deploy itself finished/)
      assertClean(r)
      const original = join(import.meta.dirname, '..', '..', 'example-app')
      for (const file of unchanged) assert.equal(readFileSync(join(r.appDir, file), 'utf8'), readFileSync(join(original, file), 'utf8'), `${file} unchanged`)
      assert.ok(!existsSync(join(r.appDir, 'reports', 'out.txt')) && !existsSync(join(r.appDir, 'arc-deploy-annotations.json')), 'no report written')
    })
  }
})

describe('STS answers: what is not STS\'s is named so, a success that does not check out is not used', () => {
  const foreign: Array<[StsFault, RegExp]> = [
    ['proxy-html', /not an STS answer: an HTML page \(HTTP 502\), after 5 attempts/],
    ['redirect', /not an STS answer: a redirect \(HTTP 302 to login\.proxy\.example\)/],
    ['not-xml', /not an STS answer: an answer that is not XML \(HTTP 200, application\/json\)/],
    ['malformed', /not an STS answer: malformed XML \(HTTP 200\)/],
    ['truncated', /not an STS answer: a cut-off answer \(HTTP 200, \d+ characters, without its closing <\/AssumeRoleWithWebIdentityResponse>\), after 5 attempts/],
  ]
  for (const [fault, pattern] of foreign) {
    test(`${String(fault)} on every attempt: one message, no trust-policy advice, no AWS call`, async () => {
      const { s } = suite
      const job = s.job()
      s.aws.setStsFault(fault)
      const from = lastSeq(s)
      try {
        const r = await suite.arc(['deploy', '--production'], { env: job.env, timeoutMs: 90_000 })
        assert.equal(r.code, 1, r.output)
        assert.match(r.output, pattern)
        assert.match(r.output, /Something between this runner and AWS STS answered instead of STS/)
        assert.doesNotMatch(r.output, /trust policy|AccessDenied|refused the exchange/i)
        assertClean(r)
        assert.deepEqual(awsCallsSince(s, from), [])
      }
      finally { s.aws.setStsFault(null) }
    })
  }

  test('a proxy\'s 502 page and a cut-off answer pass: retried, then the deploy succeeds', async () => {
    const { s } = suite
    const job = s.job()
    s.aws.injectStsFaults('proxy-html', 'truncated')
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: { ...job.env, ARC_OIDC_TIMEOUT: '20' } })
    assert.equal(r.code, 0, r.output)
    assert.equal(stsCallsSince(s, from).length, 3)
    assert.match(r.output, /attempts \.+ 3/)
    assertClean(r)
  })

  const tampered: Array<[string, RegExp]> = [
    ['expired', /its credentials expired at 1970-01-01T00:00:00\.000Z, before they were issued/],
    ['late-expiry', /its credentials expire at .*, later than the 3600 s asked for/],
    ['other-account', /its session is in account 999999999999 \(aws\), not the role's 111111111111 \(aws\)/],
    ['other-role', /its session is of role another-role, not/],
    ['empty-arn', /its assumed-role ARN is not one/],
    ['escape-arn', /its assumed-role ARN is not one/],
    ['key-newline', /its access key ID does not have the shape of an STS key/],
  ]
  for (const [answer, pattern] of tampered) {
    test(`a success with ${answer}: fails closed before anything is printed or handed over`, async () => {
      const { s } = suite
      const job = s.job()
      s.aws.setStsFault({ answer } as StsFault)
      const from = lastSeq(s)
      try {
        const r = await suite.arc(['deploy', '--production'], { env: job.env })
        assert.equal(r.code, 1, r.output)
        assert.match(r.output, /STS's answer does not check out: /)
        assert.match(r.output, pattern)
        assert.match(r.output, /the credentials were not used/)
        assert.doesNotMatch(r.output, /Assumed arn:|role\/admin|trust policy/i, 'nothing of the answer was shown as a success')
        assertClean(r)
        assert.equal(stsCallsSince(s, from).length, 1, 'not retried')
        assert.deepEqual(awsCallsSince(s, from), [], 'the credentials were never used')
      }
      finally { s.aws.setStsFault(null) }
    })
  }
})

describe('token files: only a regular file of at most 20,000 characters is read; one message otherwise, never a hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-hostile-token-'))
  dirs.push(dir)
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  const long = join(dir, 'long')
  writeFileSync(long, 'a'.repeat(20_003))
  mkdirSync(join(dir, 'folder'))
  const kinds: Array<[string, string, RegExp]> = [
    ['a FIFO with no writer', fifo, /is a named pipe \(FIFO\), not a regular file/],
    ['/dev/zero', '/dev/zero', /is a device \(such as \/dev\/zero, \/dev\/stdin or a terminal\), not a regular file/],
    ['a directory', join(dir, 'folder'), /is a directory, not a regular file/],
    ['a file longer than STS takes', long, /is longer than the 20,000 characters STS takes for a token/],
  ]
  for (const [what, path, pattern] of kinds) {
    test(what, async () => {
      const { s } = suite
      const job = s.job()
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production'], { env: { ...job.env, GITLAB_OIDC_TOKEN: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: path }, timeoutMs: 60_000 })
      assert.equal(r.code, 1, r.output)
      assert.match(r.output, new RegExp(`AWS_WEB_IDENTITY_TOKEN_FILE names ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which `))
      assert.match(r.output, pattern)
      assert.ok(r.durationMs < 30_000, `${r.durationMs} ms`)
      assertClean(r)
      assert.equal(stsCallsSince(s, from).length, 0, 'no STS call')
      assert.deepEqual(awsCallsSince(s, from), [])
    })
  }
})

/** A Node older than Architect 12 needs: the node20 devDependency, else the machine's /usr/bin/node when it is < 22. */
function oldNode (): string {
  const dependency = join(import.meta.dirname, '..', '..', 'node_modules', 'node20', 'bin', 'node')
  for (const candidate of [dependency, '/usr/bin/node']) {
    if (!existsSync(candidate)) continue
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
    if (Number(/^v(\d+)/.exec(version)?.[1]) < 22) return candidate
  }
  throw new Error('No Node older than 22 to run arc with: install the node20 devDependency (npm install), or provide /usr/bin/node < 22')
}

describe('Node first', () => {
  test('a Node older than the installed Architect\'s engines is refused in one line, before any AWS call, naming the image', async () => {
    const { s } = suite
    const job = s.job()
    const from = lastSeq(s)
    const node = oldNode()
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1)
    // Run directly: the suite's module trace (NODE_OPTIONS --import) needs Node 22's module hooks.
    const app = await installApp()
    const result = await runArc(app.dir, ['deploy', '--production'], { env: job.env, endpoint: s.aws.endpoint, node })
    app.remove()
    const r: Run = { ...result, output: stripAnsi(result.stdout + result.stderr), sdkModules: [], pluginEsBuiltins: [], appDir: app.dir }
    assert.ok(!r.output.includes(job.token), 'the token is not printed')
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, new RegExp(`× GitLab OIDC: Node\\.js ${version.replace(/\./g, '\\.')} is older than Architect 12\\.0\\.1 needs \\(node >=22\\): use the image node:22\\n`))
    assert.doesNotMatch(r.output, /globSync/)
    assertClean(r)
    assert.equal(stsCallsSince(s, from).length, 0, 'no STS call')
    assert.deepEqual(awsCallsSince(s, from), [])
  })
})
