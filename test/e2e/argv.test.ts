/**
 * The stage as Architect parses it (src/plugin/stage.ts), with the real `arc` and the packed
 * plugin: for each command line, the stack Architect acts on and the role the plugin assumed
 * agree, or the plugin refuses `production` written where Architect ignores it, before any AWS
 * call. The shapes are those where a parse of our own disagreed with Architect's: flags before
 * the bare word, `-p=1`, `-p1`, `--production=false`, repeated and negated flags, destroy's own
 * flag list.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

type Expect = 'production' | 'staging' | 'refused'
const DESTROY = ['destroy', '--app', 'oidc-example', '--force', '--now']

/** [arc arguments, what Architect acts on (and so the role), the stack name it names]. */
const ROWS: Array<[args: string[], expect: Expect, stack?: string]> = [
  [['deploy', '--dry-run', '--production'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '-p=1'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '-p1'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '-vp'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '-p', '-p'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '--no-production', '-p'], 'production', 'OidcExampleProduction'],
  [['deploy', '--dry-run', '--production=false'], 'staging', 'OidcExampleStaging'],
  [['deploy', '--dry-run', '-p', '--no-production'], 'staging', 'OidcExampleStaging'],
  [['deploy', '--dry-run', '-p=0'], 'staging', 'OidcExampleStaging'],
  [['deploy', '--dry-run', '--name', 'production'], 'staging', 'OidcExampleStagingProduction'],
  [['deploy', '--verbose', 'production'], 'refused'],
  [['deploy', '--dry-run', '--force', 'production'], 'refused'],
  [['deploy', '--', 'production'], 'refused'],
  [[...DESTROY, '-p=1'], 'production', 'OidcExampleProduction'],
  [[...DESTROY, '-p1'], 'production', 'OidcExampleProduction'],
  [[...DESTROY, '--production=false'], 'staging', 'OidcExampleStaging'],
  [[...DESTROY, 'production'], 'refused'],
  [['destroy', '--app', 'oidc-example', '--now', 'production', '--force'], 'refused'],
]

describe('the stack Architect acts on and the role the plugin assumed agree', () => {
  for (const [args, expect, stack] of ROWS) {
    test(`arc ${args.join(' ')}: ${expect}`, async () => {
      const { s } = suite
      // A job whose GitLab environment matches the stage, so only the command line decides.
      const job = expect === 'staging' ? s.job({ environment: 'staging', deployment_tier: 'staging' }) : s.job()
      const from = lastSeq(s)
      const r = await suite.arc(args, { env: job.env })
      if (expect === 'refused') {
        assert.equal(r.code, 1, r.output)
        assert.match(r.output, /would (deploy|destroy) the STAGING stack: Architect ignores a bare `production` argument/)
        assert.equal(stsCallsSince(s, from).length, 0, 'no exchange')
        assert.deepEqual(awsCallsSince(s, from), [], 'no AWS call')
        return
      }
      const sts = stsCallsSince(s, from)
      assert.equal(sts.length, 1, r.output)
      assert.equal(sts[0]!.assume?.roleArn, s.roles[expect], `the ${expect} role`)
      const named = [...new Set(awsCallsSince(s, from).map(c => c.params.StackName).filter(Boolean))]
      assert.deepEqual(named, [stack], `the stacks Architect named: ${named.join(', ')}\n${r.output}`)
      if (args[0] === 'deploy') assert.equal(r.code, 0, r.output)
    })
  }
})
