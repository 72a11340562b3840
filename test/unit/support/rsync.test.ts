/**
 * test/support/rsync.ts: the rsync subset gitlab-ci-local's shell executor runs, checked on the
 * exact command lines gitlab-ci-local 4.75 uses, and through the test/support/bin/rsync command.
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { NODE22 } from '../../support/install.ts'
import { RSYNC_DIR } from '../../support/gitlab-ci-local.ts'
import { compileExclude } from '../../support/rsync-args.ts'
import { rsync } from '../../support/rsync.ts'

let dirs: string[] = []
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})
function tree (files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rsync-test-')))
  dirs.push(dir)
  for (const [ path, text ] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}
function run (cwd: string, args: string[]): { code: number, log: string[] } {
  const log: string[] = []
  return { code: rsync(args, cwd, line => log.push(line)), log }
}

describe('rsync (test/support/rsync.ts)', () => {
  it('reads exclude patterns as rsync does', () => {
    const m = (p: string, path: string, dir = false) => compileExclude(p)(path, dir)
    assert.ok(m('/node_modules/', 'node_modules', true) && !m('/node_modules/', 'node_modules', false) && !m('/node_modules/', 'a/node_modules', true))
    assert.ok(m('.git/lfs', '.git/lfs', true) && m('.git/lfs', 'sub/.git/lfs', true) && !m('.git/lfs', '.git/lfsx', true))
    assert.ok(m('.gitlab-ci-local/', 'a/.gitlab-ci-local', true) && !m('.gitlab-ci-local/', '.gitlab-ci-local', false))
    assert.ok(m('.gitlab-ci-local/**', '.gitlab-ci-local/x/y') && !m('.gitlab-ci-local/**', '.gitlab-ci-local', true))
    assert.ok(m('*.log', 'a/b/c.log') && !m('*.log', 'a/b/c.logs'))
    assert.ok(m('/a?c', 'abc') && m('/[ab]x', 'bx') && !m('/[ab]x', 'cx'))
  })

  it('mirrors the tracked files (gitlab-ci-local\'s first call): excludes, --delete, --delete-excluded, links, modes, times', () => {
    const src = tree({ 'app.arc': '@app\nx\n', 'src/http/index.mjs': 'export {}', 'untracked.env': 'X=1', 'node_modules/a/index.js': '', '.gitlab-ci-local/state.yml': '', '.git/lfs/x': '', '.git/HEAD': 'ref' })
    symlinkSync('app.arc', join(src, 'manifest-link'))
    chmodSync(join(src, 'app.arc'), 0o640)
    utimesSync(join(src, 'app.arc'), 1_000_000, 1_000_000)
    writeFileSync(join(src, '.gitlab-ci-local', 'rsync-exclude-.docker'), '/untracked.env\n/node_modules/\n')
    const dest = join(src, '.gitlab-ci-local', 'builds', '.docker')
    mkdirSync(join(dest, 'node_modules'), { recursive: true })
    writeFileSync(join(dest, 'stale.txt'), 'old')
    const args = [ '-a', '--delete-excluded', '--delete', `--exclude-from=${join(src, '.gitlab-ci-local', 'rsync-exclude-.docker')}`, '--exclude', '.git/lfs', '--exclude', '.gitlab-ci-local/', './', '.gitlab-ci-local/builds/.docker/' ]
    assert.deepEqual(run(src, args), { code: 0, log: [] })
    assert.equal(readFileSync(join(dest, 'src/http/index.mjs'), 'utf8'), 'export {}')
    assert.equal(readFileSync(join(dest, '.git/HEAD'), 'utf8'), 'ref')
    for (const gone of [ 'untracked.env', 'node_modules', '.gitlab-ci-local', '.git/lfs', 'stale.txt' ]) assert.ok(!existsSync(join(dest, gone)), gone)
    assert.equal(readlinkSync(join(dest, 'manifest-link')), 'app.arc')
    assert.equal(statSync(join(dest, 'app.arc')).mode & 0o777, 0o640)
    assert.equal(statSync(join(dest, 'app.arc')).mtimeMs, 1_000_000_000)
    // again: nothing to do, so nothing is rewritten
    const before = lstatSync(join(dest, 'app.arc')).ino
    assert.equal(run(src, args).code, 0)
    assert.equal(lstatSync(join(dest, 'app.arc')).ino, before)
  })

  it('copies artifacts:paths with --files-from and -rRa, keeping their paths; missing ones are exit 23', () => {
    const src = tree({ 'arc-deploy.env': 'ARC_STAGE=staging', 'out/a/b.txt': 'b', '.gitlab-ci-local/x': 'no' })
    writeFileSync(join(src, 'list'), './arc-deploy.env\n./out\n./.gitlab-ci-local\n')
    const args = [ '--exclude', '.gitlab-ci-local/**', '-rRa', `--files-from=${join(src, 'list')}`, '.', '.gitlab-ci-local/artifacts/job/.' ]
    assert.equal(run(src, args).code, 0)
    const dest = join(src, '.gitlab-ci-local', 'artifacts', 'job')
    assert.equal(readFileSync(join(dest, 'arc-deploy.env'), 'utf8'), 'ARC_STAGE=staging')
    assert.equal(readFileSync(join(dest, 'out/a/b.txt'), 'utf8'), 'b')
    assert.ok(!existsSync(join(dest, '.gitlab-ci-local', 'x')), 'excluded below')
    writeFileSync(join(src, 'list'), './missing.env\n')
    const missing = run(src, args)
    assert.equal(missing.code, 23)
    assert.match(missing.log.join('\n'), /link_stat .*missing\.env.* failed/)
  })

  it('copies the dotenv report with -Ra, and a directory\'s contents with SRC/.', () => {
    const src = tree({ 'arc-deploy.env': 'ARC_DEPLOY_URL=https://x', 'art/.gitlab-ci-reports/dotenv/arc-deploy.env': 'A=1', 'art/f': 'f' })
    assert.equal(run(src, [ '-Ra', './arc-deploy.env', 'art2/.gitlab-ci-reports/dotenv/.' ]).code, 0)
    assert.equal(readFileSync(join(src, 'art2/.gitlab-ci-reports/dotenv/arc-deploy.env'), 'utf8'), 'ARC_DEPLOY_URL=https://x')
    assert.equal(run(src, [ '--exclude=/.gitlab-ci-reports/', '-a', `${join(src, 'art')}/.`, join(src, 'build') ]).code, 0)
    assert.equal(readFileSync(join(src, 'build/f'), 'utf8'), 'f')
    assert.ok(!existsSync(join(src, 'build/.gitlab-ci-reports')))
  })

  it('refuses options it does not implement, with rsync\'s usage exit code', () => {
    const src = tree({ f: '' })
    for (const args of [ [ '-az', 'f', 'g' ], [ '--checksum', 'f', 'g' ], [ 'f' ] ]) {
      const r = run(src, args)
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.log.join('\n'), /test\/support\/rsync\.ts/)
    }
  })

  it('runs as the `rsync` command of test/support/bin', () => {
    const src = tree({ 'a/b': 'b' })
    const r = spawnSync(join(RSYNC_DIR, 'rsync'), [ '-a', 'a/', 'c/' ], { cwd: src, encoding: 'utf8', env: { PATH: `${dirname(realpathSync(NODE22))}:/usr/bin:/bin` } })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(readFileSync(join(src, 'c/b'), 'utf8'), 'b')
  })
})
