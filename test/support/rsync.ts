/**
 * The part of rsync that gitlab-ci-local's shell executor runs, in Node, for machines without
 * rsync (this one, and CI): no npm package provides an rsync command (`rsync` and `rsyncwrapper`
 * on npm spawn the real binary). Local copies only, and only the options gitlab-ci-local 4.75
 * uses; anything else exits 1, so a new use shows up at once:
 *   -a (as -rlpt), -r, -R/--relative, --delete, --delete-excluded, --exclude[=]PATTERN,
 *   --exclude-from=FILE, --files-from=FILE
 * Its calls: `-a --delete-excluded --delete --exclude-from=F --exclude .git/lfs --exclude
 * .gitlab-ci-local/ ./ DEST/` (tracked files, before the jobs), `--exclude '.gitlab-ci-local/**'
 * -rRa --files-from=F . DEST/.` (artifacts:paths), `-Ra ./FILE DEST/.` (reports:dotenv, cache),
 * `-a SRC/. DEST` (artifacts into isolated builds). On PATH through test/support/bin/rsync.
 */
import {
  chmodSync, copyFileSync, existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync,
  symlinkSync, utimesSync,
  type Stats,
} from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { RsyncUsageError, compileExclude, parseArgs, type RsyncOptions } from './rsync-args.ts'

interface Transfer {
  o: RsyncOptions
  excluded: (rel: string, isDir: boolean) => boolean
  errors: string[]
}

/** Copy one entry (lstat'ed as st) to dest; rel is its path in the transfer, for the filters. */
function copyEntry (t: Transfer, src: string, st: Stats, dest: string, rel: string): void {
  const existing = lstatOrNull(dest)
  if (st.isSymbolicLink()) {
    if (!t.o.links) return
    const target = readlinkSync(src)
    if (existing?.isSymbolicLink() && readlinkSync(dest) === target) return
    if (existing) rmSync(dest, { recursive: true, force: true })
    symlinkSync(target, dest)
    if (t.o.times) lutimesSync(dest, st.atime, st.mtime)
  }
  else if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dest, { force: true })
    mkdirSync(dest, { recursive: true })
    if (t.o.recursive) syncDir(t, src, dest, rel)
    if (t.o.perms) chmodSync(dest, st.mode & 0o7777)
    if (t.o.times) utimesSync(dest, st.atime, st.mtime)
  }
  else if (st.isFile()) {
    // rsync's quick check: same size and modification time means up to date
    if (existing?.isFile() && existing.size === st.size && Math.trunc(existing.mtimeMs / 1000) === Math.trunc(st.mtimeMs / 1000)) return
    if (existing && !existing.isFile()) rmSync(dest, { recursive: true, force: true })
    copyFileSync(src, dest)
    if (t.o.perms) chmodSync(dest, st.mode & 0o7777)
    if (t.o.times) utimesSync(dest, st.atime, st.mtime)
  }
  else t.errors.push(`skipping non-regular file "${rel}"`)
}

function syncDir (t: Transfer, src: string, dest: string, rel: string): void {
  const names = new Set<string>()
  for (const name of readdirSync(src).sort()) {
    const path = join(src, name)
    const st = lstatSync(path)
    const childRel = rel ? `${rel}/${name}` : name
    if (t.excluded(childRel, st.isDirectory())) continue
    names.add(name)
    copyEntry(t, path, st, join(dest, name), childRel)
  }
  if (!t.o.delete) return
  for (const name of readdirSync(dest)) {
    if (names.has(name)) continue
    const path = join(dest, name)
    const childRel = rel ? `${rel}/${name}` : name
    // excluded files on the receiving side are protected, unless --delete-excluded
    if (!t.o.deleteExcluded && t.excluded(childRel, lstatSync(path).isDirectory())) continue
    rmSync(path, { recursive: true, force: true })
  }
}

function lstatOrNull (p: string): Stats | null {
  try { return lstatSync(p) }
  catch { return null }
}

/** With -R: the part of a source path that is recreated under the destination (after `/./`, else all of it). */
function relativePart (arg: string): string {
  const marker = arg.lastIndexOf('/./')
  const part = marker >= 0 ? arg.slice(marker + 3) : arg
  return part.split('/').filter(s => s !== '' && s !== '.').join('/')
}

/** Transfer one source argument (or --files-from entry) into destDir. */
function transferOne (t: Transfer, cwd: string, arg: string, destDir: string): void {
  const src = resolve(cwd, arg)
  // `dir/` and `dir/.` mean the directory's contents (and follow a symlink to a directory)
  const contents = /(^|\/)\.?$/.test(arg) || arg.endsWith('/')
  let st: Stats | null
  try {
    st = contents ? statSync(src) : lstatSync(src)
  }
  catch {
    t.errors.push(`link_stat "${src}" failed: No such file or directory (2)`)
    return
  }
  if (t.o.relative) {
    const rel = relativePart(arg)
    if (rel && t.excluded(rel, st.isDirectory())) return
    const parts = rel ? rel.split('/') : []
    // implied directories
    for (let i = 1; i < parts.length; i++) mkdirSync(join(destDir, ...parts.slice(0, i)), { recursive: true })
    const dest = rel ? join(destDir, ...parts) : destDir
    if (st.isDirectory() && !t.o.recursive) mkdirSync(dest, { recursive: true })
    else copyEntry(t, src, st, dest, rel)
    return
  }
  if (st.isDirectory() && contents) {
    mkdirSync(destDir, { recursive: true })
    if (t.o.recursive) syncDir(t, src, destDir, '')
    return
  }
  const name = basename(src)
  if (t.excluded(name, st.isDirectory())) return
  if (st.isDirectory() && !t.o.recursive) return
  copyEntry(t, src, st, join(destDir, name), name)
}

/** Run rsync with these arguments in cwd; returns rsync's exit code (23: some files failed). */
export function rsync (argv: string[], cwd: string, log: (line: string) => void = line => process.stderr.write(line + '\n')): number {
  let o: RsyncOptions
  try {
    o = parseArgs(argv, cwd)
  }
  catch (err) {
    if (err instanceof RsyncUsageError) {
      log(err.message)
      return 1
    }
    throw err
  }
  const excludes = o.excludes.map(compileExclude)
  const t: Transfer = { o, excluded: (rel, isDir) => excludes.some(m => m(rel, isDir)), errors: [] }
  const destArg = o.args.at(-1)!
  const sources = o.args.slice(0, -1)
  const destDir = resolve(cwd, destArg)
  if (o.filesFrom !== undefined) {
    // --files-from: the one source is the base directory; the listed paths keep their place (-R)
    if (sources.length !== 1) {
      log('rsync (test/support/rsync.ts): --files-from takes exactly one source directory')
      return 1
    }
    t.o.relative = true
    const base = resolve(cwd, sources[0]!)
    const list = readFileSync(resolve(cwd, o.filesFrom), 'utf8').split('\n').filter(l => l.trim() !== '')
    mkdirSync(destDir, { recursive: true })
    for (const entry of list) transferOne(t, base, entry, destDir)
  }
  else if (sources.length === 1 && !o.relative && !destArg.endsWith('/') && !existsSync(destDir) && lstatOrNull(resolve(cwd, sources[0]!))?.isFile()) {
    // one file to a new name
    copyEntry(t, resolve(cwd, sources[0]!), lstatSync(resolve(cwd, sources[0]!)), destDir, basename(destDir))
  }
  else {
    mkdirSync(destDir, { recursive: true })
    for (const source of sources) transferOne(t, cwd, source, destDir)
  }
  for (const e of t.errors) log(`rsync: ${e}`)
  return t.errors.length ? 23 : 0
}
