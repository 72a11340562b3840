import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { EXIT_OK, EXIT_USAGE } from '../../../src/cli/io.ts'
import { buildTrustPolicy } from '../../../src/iam/trust-policy.ts'
import { run } from '../../support/cli.ts'

const cliPath = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))

describe('main', () => {
  it('shows the command list for help, --help and -h; usage error without a command', async () => {
    for (const argv of [ [ 'help' ], [ '--help' ], [ '-h' ] ]) {
      const r = await run(argv)
      assert.equal(r.code, EXIT_OK)
      assert.match(r.stdout, /Commands:\n {2}trust-policy[\s\S]*doctor/)
    }
    const none = await run([])
    assert.equal(none.code, EXIT_USAGE)
    assert.equal(none.stdout, '')
    assert.match(none.stderr, /Usage: arc-gitlab-oidc <command>/)
  })

  it('prints the package version', async () => {
    const r = await run([ '--version' ])
    assert.equal(r.code, EXIT_OK)
    assert.match(r.stdout, /^\d+\.\d+\.\d+/)
  })

  it('dispatches doctor to src/cli/doctor.ts and returns its exit code', async () => {
    const r = await run([ 'doctor', '--definitely-not-a-doctor-flag' ], {})
    assert.equal(r.code, EXIT_USAGE, r.stderr)
    assert.match(r.stderr, /Unknown option '--definitely-not-a-doctor-flag'[\s\S]*See: arc-gitlab-oidc help doctor/)
    assert.equal(r.stdout, '')
    const help = await run([ 'doctor', '--help' ], {})
    assert.equal(help.code, EXIT_OK)
    assert.match(help.stdout, /^Usage: arc-gitlab-oidc doctor/)
  })
})

describe('bin entry', () => {
  it('runs main when executed directly, also through a symlink like npm\'s bin shim', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-gitlab-oidc-bin-'))
    try {
      const link = join(dir, 'arc-gitlab-oidc')
      symlinkSync(cliPath, link)
      const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' }
      const ok = spawnSync(process.execPath, [ link, 'trust-policy', '--project', 'a/b', '--branch', 'main', '--account', '123456789012' ], { encoding: 'utf8', env })
      assert.equal(ok.status, EXIT_OK, ok.stderr)
      assert.deepEqual(JSON.parse(ok.stdout), buildTrustPolicy({ project: 'a/b', branches: [ 'main' ], account: '123456789012' }))
      assert.match(ok.stderr, /Trust policy for a\/b/)

      const bad = spawnSync(process.execPath, [ link, 'trust-policy', '--nope' ], { encoding: 'utf8', env })
      assert.equal(bad.status, EXIT_USAGE)
      assert.equal(bad.stdout, '')
      assert.match(bad.stderr, /Unknown option '--nope'\n/)
    }
    finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('does nothing when imported', async () => {
    // Importing the module (as this test file does) must not print or set an exit code.
    assert.equal(process.exitCode, undefined)
  })
})
