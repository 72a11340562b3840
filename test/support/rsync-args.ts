/**
 * rsync's command line, the subset test/support/rsync.ts implements, and its exclude patterns.
 */
import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'

export interface RsyncOptions {
  recursive: boolean
  links: boolean
  perms: boolean
  times: boolean
  relative: boolean
  delete: boolean
  deleteExcluded: boolean
  excludes: string[]
  filesFrom?: string
  args: string[]
}

export class RsyncUsageError extends Error {}

const SHORT: Record<string, (o: RsyncOptions) => void> = {
  a: o => { o.recursive = o.links = o.perms = o.times = true },
  r: o => { o.recursive = true },
  R: o => { o.relative = true },
}

function patternsFrom (file: string, cwd: string): string[] {
  return readFileSync(resolve(cwd, file), 'utf8').split('\n').map(l => l.replace(/\r$/, ''))
    .filter(l => l.trim() !== '' && !/^[;#]/.test(l))
}

/** Parse rsync's command line (the subset above). */
export function parseArgs (argv: string[], cwd: string): RsyncOptions {
  const o: RsyncOptions = {
    recursive: false, links: false, perms: false, times: false, relative: false, delete: false, deleteExcluded: false,
    excludes: [], args: [],
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--delete') o.delete = true
    else if (a === '--delete-excluded') o.deleteExcluded = true
    else if (a === '--relative') o.relative = true
    else if (a === '--exclude') o.excludes.push(argv[++i] ?? '')
    else if (a.startsWith('--exclude=')) o.excludes.push(a.slice('--exclude='.length))
    else if (a.startsWith('--exclude-from=')) o.excludes.push(...patternsFrom(a.slice('--exclude-from='.length), cwd))
    else if (a.startsWith('--files-from=')) o.filesFrom = a.slice('--files-from='.length)
    else if (/^-[A-Za-z]+$/.test(a)) {
      for (const c of a.slice(1)) {
        const set = SHORT[c]
        if (!set) throw new RsyncUsageError(`rsync (test/support/rsync.ts): option -${c} is not implemented`)
        set(o)
      }
    }
    else if (a.startsWith('-')) throw new RsyncUsageError(`rsync (test/support/rsync.ts): option ${a} is not implemented`)
    else o.args.push(a)
  }
  if (o.args.length < 2) throw new RsyncUsageError('rsync (test/support/rsync.ts): a source and a destination are needed')
  if (o.excludes.some(p => p === '')) throw new RsyncUsageError('rsync (test/support/rsync.ts): empty --exclude')
  return o
}

/** rsync's wildcards: `*` (not `/`), `**` (anything), `?`, `[...]`. */
function globToRegExp (glob: string): string {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*'
      i++
    }
    else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        re += '[' + glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']'
        i = end
      }
    }
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return re
}

/**
 * An exclude pattern as rsync reads it: a trailing `/` matches directories only; a leading `/`
 * anchors at the root of the transfer; a pattern with a `/` or `**` in it is matched against the
 * end of the path (at a directory boundary), one without against the name alone.
 */
export function compileExclude (pattern: string): (path: string, isDir: boolean) => boolean {
  const dirOnly = pattern.endsWith('/')
  let p = dirOnly ? pattern.replace(/\/+$/, '') : pattern
  const anchored = p.startsWith('/')
  if (anchored) p = p.replace(/^\/+/, '')
  const wholePath = anchored || p.includes('/') || p.includes('**')
  const re = new RegExp(anchored ? `^${globToRegExp(p)}$` : wholePath ? `(^|/)${globToRegExp(p)}$` : `^${globToRegExp(p)}$`)
  return (path, isDir) => {
    if (dirOnly && !isDir) return false
    return re.test(wholePath ? path : basename(path))
  }
}
