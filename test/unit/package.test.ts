/**
 * Issue 9: the package as `npm pack` makes it (the tarball every end-to-end test installs): what it
 * contains and what it leaves out, publint --strict and Are the Types Wrong on it (both from
 * devDependencies, offline), and example-app depending on the current version.
 */
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { NODE22, ROOT, packPlugin } from '../support/install.ts'
import { TEMPLATE_BODY_MAX_BYTES, checkTemplateBody } from '../support/aws/cloudformation.ts'

interface Manifest {
  name: string
  version: string
  license: string
  description: string
  keywords: string[]
  type: string
  main: string
  types: string
  bin: Record<string, string>
  exports: Record<string, Record<string, string> | string>
}

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name)
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest
let tarball: string
let files: string[]
let unpacked: string

before(async () => {
  tarball = await packPlugin()
  const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
  assert.equal(list.status, 0, list.stderr)
  files = list.stdout.split('\n').filter(f => f && !f.endsWith('/')).map(f => f.replace(/^package\//, '')).sort()
  unpacked = mkdtempSync(join(tmpdir(), 'arc-oidc-package-'))
  const x = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
  assert.equal(x.status, 0, String(x.stderr))
})
process.once('exit', () => { if (unpacked) rmSync(unpacked, { recursive: true, force: true }) })

const packed = (path: string) => readFileSync(join(unpacked, path), 'utf8')

/** The plugin's job file as `arc` loads it (scripts/bundle-plugin.ts): `dist/plugin/job-<hash>.js`. */
const CHUNK = /^dist\/plugin\/job-[A-Z0-9]{8}\.js$/

test('the tarball holds the documents, the IAM template and dist with types', () => {
  for (const path of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'iam/gitlab-oidc.yaml', 'templates/arc-deploy.yml', 'dist/index.js', 'dist/index.d.ts']) {
    assert.ok(files.includes(path), `${path} in ${files.join(' ')}`)
  }
  // (Compared by their openings, not with the work tree: README and template may be edited while a suite runs.)
  assert.equal(packed('LICENSE'), readFileSync(join(ROOT, 'LICENSE'), 'utf8'), 'LICENSE is the repository\'s')
  assert.ok(packed('README.md').startsWith(`# ${PACKAGE.name}\n`), 'README.md is the project\'s')
  assert.ok(packed('CHANGELOG.md').startsWith('# Changelog\n'), 'CHANGELOG.md is the project\'s')
  // The CI/CD component, for projects that vendor it (README "GitLab CI/CD component").
  assert.match(packed('templates/arc-deploy.yml'), /^spec:\n {2}inputs:/m, 'templates/arc-deploy.yml is the component')
  assert.match(packed('iam/gitlab-oidc.yaml'), /^AWSTemplateFormatVersion/m, 'the IAM template is a CloudFormation template')
  // tsc's modules have their types; the bundle's job file (CHUNK, below) is what `arc` loads, not an API.
  const js = files.filter(f => f.endsWith('.js') && !CHUNK.test(f))
  assert.ok(js.length >= 10, `dist has the plugin's modules: ${js.join(' ')}`)
  for (const file of js) assert.ok(files.includes(file.replace(/\.js$/, '.d.ts')), `${file} has its .d.ts`)
})

// Issue 24: `setup` prints `aws cloudformation deploy --template-file node_modules/.../gitlab-oidc.yaml`,
// which sends the file as TemplateBody; CloudFormation refuses more than 51,200 bytes (the AWS CLI
// before any call). 46,000 keeps room for the parameters and statements still to come.
const TEMPLATE_BUDGET_BYTES = 46000

test('the IAM template as packed stays within its budget of 46,000 bytes', () => {
  const bytes = readFileSync(join(unpacked, 'iam/gitlab-oidc.yaml')).length
  assert.ok(bytes <= TEMPLATE_BUDGET_BYTES, `iam/gitlab-oidc.yaml is ${bytes} bytes, over its budget of ${TEMPLATE_BUDGET_BYTES}: move rationale to docs/iam-template.md, compact repeated statements`)
})

test('the IAM template as packed is a TemplateBody CloudFormation takes (at most 51,200 bytes), whatever the budget says', () => {
  const body = packed('iam/gitlab-oidc.yaml')
  assert.ok(Buffer.byteLength(body) <= TEMPLATE_BODY_MAX_BYTES, `${Buffer.byteLength(body)} bytes`)
  // The stand-in CloudFormation's own rule (test/unit/support/aws/cloudformation.test.ts), on the packed file.
  assert.doesNotThrow(() => checkTemplateBody(body))
})

test('nothing else: no tests, sources, scripts, caches, example app or source maps', () => {
  const allowed = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|iam\/gitlab-oidc\.(yaml|allows\.json)|docs\/[\w-]+\.md|templates\/arc-deploy\.yml|dist\/[\w/-]+\.(js|d\.ts)|dist\/plugin\/sts-sdk\.(cjs|licenses\.txt))$/
  assert.deepEqual(files.filter(f => !allowed.test(f)), [], 'files outside the allow-list')
  assert.deepEqual(files.filter(f => /(^|\/)(test|src|scripts|\.cache|node_modules|\.ci)\//.test(f) || /\.test\.|\.tgz$|\.map$/.test(f)), [])
})

// Issue 23: the exchange's AWS SDK ships as one bundle (scripts/bundle-sdk.ts) with the licence
// notices of what it bundles; the package itself depends on no SDK package.
test('the exchange\'s SDK is one bundle with its licence notices; the package depends on no SDK package', () => {
  for (const path of ['dist/plugin/sts-sdk.cjs', 'dist/plugin/sts-sdk.licenses.txt']) assert.ok(files.includes(path), `${path} in ${files.join(' ')}`)
  const manifest = JSON.parse(packed('package.json')) as Record<string, Record<string, string> | undefined>
  const runtime = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap(k => Object.keys(manifest[k] ?? {}))
  assert.deepEqual(runtime.filter(name => /^@(aws-sdk|smithy)\//.test(name)), [], 'no AWS SDK package among the runtime dependencies')
  // The bundle needs nothing installed: only Node's builtins (and SigV4a's optional CRT, behind a try).
  const bundle = packed('dist/plugin/sts-sdk.cjs')
  const required = [...new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map(m => m[1]!))]
  assert.deepEqual(required.filter(r => !r.startsWith('node:') && r !== '@aws-sdk/signature-v4-crt'), [], 'the bundle requires only builtins')
  assert.doesNotMatch(bundle, /\bimport\(/, 'no dynamic import() left (a builtin\'s ES module facade costs ~25 ms)')
  // Every bundled package's notice: a header `name@version (licence)` followed by its LICENSE text.
  const notices = packed('dist/plugin/sts-sdk.licenses.txt')
  const headers = [...notices.matchAll(/^(@?[\w./-]+)@(\d[\w.-]*) \(([^)]+)\)$/gm)]
  const names = headers.map(h => h[1])
  for (const name of ['@aws-sdk/client-sts', '@aws-sdk/core', '@smithy/core', '@smithy/node-http-handler']) assert.ok(names.includes(name), `${name} in the notices (${names.join(', ')})`)
  assert.ok(!names.some(n => n?.startsWith('@aws-sdk/credential-provider')), 'the credential-provider chain is not bundled (the call is unsigned)')
  const sections = notices.split(/^={78}$/m).slice(1)
  assert.equal(sections.length, headers.length)
  for (const section of sections) assert.match(section, /^--- LICENSE/m, section.slice(0, 80))
  assert.match(notices, /Apache License\s+Version 2\.0, January 2004/)
  // Loads on its own, from a directory with no node_modules anywhere above it.
  const alone = mkdtempSync(join(tmpdir(), 'arc-oidc-bundle-'))
  try {
    writeFileSync(join(alone, 'sts-sdk.cjs'), bundle)
    const r = spawnSync(NODE22, ['-e', 'const m = require("./sts-sdk.cjs"); console.log(Object.keys(m).sort().join(" "))'], { cwd: alone, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'AssumeRoleWithWebIdentityCommand STSClient StandardRetryStrategy')
  }
  finally {
    rmSync(alone, { recursive: true, force: true })
  }
})

test('dist has no stale modules: each one is built from a source that exists now', () => {
  const stale = files.filter(f => f.startsWith('dist/') && f.endsWith('.js') && !CHUNK.test(f))
    .filter(f => !existsSync(join(ROOT, 'src', f.slice('dist/'.length).replace(/\.js$/, '.ts'))))
  assert.deepEqual(stale, [], 'dist modules without a source in src/ (the build must start from an empty dist)')
})

test('dist/index.js is the bundled plugin: node builtins only, then one job file in dist/plugin/, packed', () => {
  const index = packed('dist/index.js')
  const staticImports = [...index.matchAll(/^import .* from "([^"]+)";$/gm)].map(m => m[1]!)
  assert.deepEqual(staticImports.filter(s => !s.startsWith('node:')), [], 'off GitLab, dist/index.js loads nothing of its own')
  const loaded = new Set<string>()
  const walk = (file: string) => {
    for (const [, spec] of packed(file).matchAll(/(?:import\(|from )"(\.{1,2}\/[^"]+)"/g)) {
      const target = posix.join(posix.dirname(file), spec!)
      assert.ok(files.includes(target), `${file} loads ${spec}, which is packed`)
      if (!loaded.has(target)) { loaded.add(target); walk(target) }
    }
  }
  walk('dist/index.js')
  const chunks = [...loaded]
  assert.equal(chunks.length, 1, `a job loads one file after dist/index.js: ${chunks.join(' ')}`)
  assert.match(chunks[0]!, CHUNK)
  // exchange.ts and allows.ts find files relative to their own module: the job file has them where tsc has them.
  const exchange = chunks.filter(c => packed(c).includes('"./sts-sdk.cjs"'))
  const allows = chunks.filter(c => packed(c).includes('"../../iam/gitlab-oidc.allows.json"'))
  assert.equal(exchange.length, 1, 'the job file loads the SDK bundle')
  assert.equal(allows.length, 1, 'the job file reads the allows file')
  // ...the SDK only when the exchange runs: its require sits in exchange.ts's lazy initialiser, not at the top.
  assert.match(packed(chunks[0]!), /var init_exchange = __esm\(\{\n(?:(?!\n\}\);\n)[\s\S])*"\.\/sts-sdk\.cjs"/, 'exchange.ts is initialised at its import(), not when the job file loads')
  assert.ok(files.includes(posix.join(posix.dirname(exchange[0]!), 'sts-sdk.cjs')), `the SDK bundle is next to ${exchange[0]}`)
  assert.ok(files.includes(posix.join(posix.dirname(allows[0]!), '../../iam/gitlab-oidc.allows.json')), `iam/gitlab-oidc.allows.json is at ../../iam from ${allows[0]}`)
})

test('every name dist/index.js takes from the job file is one the job file exports', () => {
  const index = packed('dist/index.js')
  const taken = [...index.matchAll(/const \{([^}]*)\} = await import\("(\.\/plugin\/job-[A-Z0-9]{8}\.js)"\)/g)]
  assert.ok(taken.length >= 5, `index.js imports the job file for activation, failures and each hook (${taken.length} imports)`)
  const jobFile = `dist/${taken[0]![2]!.slice(2)}`
  assert.ok(taken.every(t => t[2] === taken[0]![2]), 'one job file')
  const exported = /^export \{([^}]*)\};$/m.exec(packed(jobFile))?.[1]?.split(',').map(n => n.trim()).filter(Boolean) ?? []
  const names = taken.flatMap(t => t[1]!.split(',').map(n => n.split(':')[0]!.trim()).filter(Boolean))
  assert.deepEqual(names.filter(n => !exported.includes(n)), [], `exported by ${jobFile}: ${exported.join(', ')}`)
})

test('every entry point the manifest names is in the tarball; the CLI starts with a shebang', () => {
  const manifest = JSON.parse(packed('package.json')) as Manifest
  assert.equal(manifest.license, 'Apache-2.0')
  assert.match(packed('LICENSE'), /^\s+Apache License\n\s+Version 2\.0, January 2004\n/)
  const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...Object.values(manifest.exports).flatMap(v => typeof v === 'string' ? [v] : Object.values(v))]
  for (const target of targets) assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is packed`)
  // npm makes bin targets executable when it installs them; the shebang is ours to provide.
  for (const cli of Object.values(manifest.bin)) assert.match(packed(cli), /^#!\/usr\/bin\/env node\n/)
})

test('the description and keywords say it serves the AWS-standard web-identity variables too', () => {
  assert.match(PACKAGE.description, /AWS_ROLE_ARN/)
  assert.match(PACKAGE.description, /AWS_WEB_IDENTITY_TOKEN_FILE/)
  assert.match(PACKAGE.description, /GitLab/)
  for (const k of ['gitlab', 'oidc', 'web-identity', 'arc-plugin']) assert.ok(PACKAGE.keywords.includes(k), k)
})

test('publint --strict finds nothing, not even a suggestion', () => {
  const r = spawnSync(NODE22, [bin('publint'), '--strict', tarball], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /All good!/, r.stdout)
})

test('Are the Types Wrong (profile esm-only): types resolve for ESM consumers, and no other problem', () => {
  const r = spawnSync(NODE22, [bin('attw'), '--profile', 'esm-only', '--format', 'json', tarball], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const report = JSON.parse(r.stdout) as {
    analysis: {
      types: { kind: string }
      entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }>
    }
    problems?: Record<string, Array<{ resolutionKind?: string }>>
  }
  assert.equal(report.analysis.types.kind, 'included', 'the package ships its own types')
  for (const kind of ['node16-esm', 'bundler']) {
    assert.match(report.analysis.entrypoints['.']?.resolutions[kind]?.resolution?.fileName ?? '', /\/dist\/index\.d\.ts$/, `"." resolves to its types for ${kind}`)
  }
  // The one problem the profile ignores is CommonJS `require()` of an ES module; the next test
  // shows that no profile could make it work.
  const problems = Object.entries(report.problems ?? {}).flatMap(([kind, list]) => list.map(p => `${kind} (${p.resolutionKind ?? '-'})`))
  assert.deepEqual(problems.filter(p => !/^CJSResolvesToESM \(node16-cjs\)$/.test(p)), [])
})

test('why esm-only: require() of the plugin fails on its top-level await, so CommonJS consumers need import()', () => {
  symlinkSync(join(ROOT, 'node_modules'), join(unpacked, 'node_modules'), 'dir')
  const required = spawnSync(NODE22, ['-e', 'require("./dist/index.js")'], { cwd: unpacked, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  assert.notEqual(required.status, 0)
  assert.match(required.stderr, /ERR_REQUIRE_ASYNC_MODULE/)
  const imported = spawnSync(NODE22, ['--input-type=module', '-e', 'await import("./dist/index.js"); console.log("imported")'], { cwd: unpacked, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  assert.equal(imported.status, 0, imported.stderr)
  assert.equal(imported.stdout, 'imported\n', 'off GitLab the plugin prints nothing')
})

test('example-app depends on the plugin\'s current version', () => {
  const app = JSON.parse(readFileSync(join(ROOT, 'example-app', 'package.json'), 'utf8')) as { devDependencies?: Record<string, string>, dependencies?: Record<string, string> }
  const range = app.devDependencies?.[PACKAGE.name] ?? app.dependencies?.[PACKAGE.name]
  assert.equal(range, `^${PACKAGE.version}`)
})

/* Issue 15: docs that work from npm. */

const PROJECT_URL = 'https://gitlab.com/arc-gitlab-oidc/arc-plugin-gitlab-oidc'
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
/** Every Markdown link target in the README, code blocks left out. */
const readmeLinks = (): string[] => [ ...README.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g) ].map(m => m[1]!)

test('package.json names the repository, homepage and issue tracker (the project on gitlab.com)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { repository?: { type?: string, url?: string }, homepage?: string, bugs?: { url?: string } }
  assert.deepEqual(pkg.repository, { type: 'git', url: `git+${PROJECT_URL}.git` })
  assert.equal(pkg.homepage, `${PROJECT_URL}#readme`)
  assert.equal(pkg.bugs?.url, `${PROJECT_URL}/-/issues`)
})

test('every relative link in the README resolves in the repository and is in the package (it works on npm and in node_modules)', () => {
  const relative = readmeLinks().filter(l => !/^[a-z]+:/.test(l) && !l.startsWith('#'))
  assert.ok(relative.includes('docs/aws-setup.md'), `relative links: ${relative.join(' ')}`)
  for (const link of relative) {
    const path = link.split('#')[0]!
    assert.ok(existsSync(join(ROOT, path)), `${link} exists in the repository`)
    assert.ok(files.includes(path), `${link} is in the package: ship it, or link it at ${PROJECT_URL}/-/blob/main/${path}`)
  }
})

test('every README link into the repository names a file that exists', () => {
  const prefix = `${PROJECT_URL}/-/blob/main/`
  const absolute = readmeLinks().filter(l => l.startsWith(prefix))
  assert.ok(absolute.some(l => l.endsWith('CONTRIBUTING.md')), absolute.join(' '))
  for (const link of absolute) assert.ok(existsSync(join(ROOT, link.slice(prefix.length).split('#')[0]!)), `${link} names a file of the repository`)
})

test('every in-page link of the README names one of its headings', () => {
  // GitLab's (and npm's) heading anchors: lower case, punctuation but - and _ dropped, spaces to -.
  const slug = (h: string) => h.toLowerCase().replace(/`/g, '').replace(/[^\w\- ]/g, '').replace(/ /g, '-')
  const anchors = new Set([ ...README.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm) ].map(m => slug(m[1]!)))
  for (const link of readmeLinks().filter(l => l.startsWith('#'))) assert.ok(anchors.has(link.slice(1)), `${link} is a heading`)
})

test('the tarball holds what the README promises: each node_modules/arc-plugin-gitlab-oidc/... path, and the setup command', () => {
  const promised = [ ...README.matchAll(/node_modules\/arc-plugin-gitlab-oidc\/(\w[\w./-]*\w)/g) ].map(m => m[1]!)
  assert.ok(promised.includes('iam/gitlab-oidc.yaml'))
  for (const path of promised) assert.ok(files.includes(path), `${path} is in the package`)
  const manifest = JSON.parse(packed('package.json')) as Manifest
  assert.ok(README.includes('npx arc-gitlab-oidc setup') && manifest.bin['arc-gitlab-oidc'], 'npx arc-gitlab-oidc is the package\'s bin')
  assert.ok(files.includes('dist/cli/setup.js'), 'setup is built into the package')
})

/* Issue 21: docs that work from the tarball. Every shipped Markdown file, as npm ships it. */

/** The Markdown files the package ships (README, CHANGELOG, docs/). */
const shippedDocs = () => files.filter(f => f.endsWith('.md'))
/** Text without fenced code blocks. */
const prose = (md: string) => md.replace(/^```[\s\S]*?^```/gm, '')
/** GitLab's (and npm's) heading anchors: lower case, punctuation but - and _ dropped, spaces to -. */
const slug = (h: string) => h.trim().toLowerCase().replace(/`/g, '').replace(/[^\w\- ]/g, '').replace(/ /g, '-')
const anchorsOf = (md: string) => new Set([ ...prose(md).matchAll(/^#{1,6} (.+)$/gm) ].map(m => slug(m[1]!)))
/** Paths of this repository that npm does not ship: a user has none of them. */
const UNSHIPPED = /(?<![\w@./-])(?:(?:test|example-app|scripts|src)\/[\w./*-]*|CONTRIBUTING\.md)/g

test('every relative link in a shipped doc resolves inside the tarball, and every #anchor to a heading of its target', () => {
  const docs = shippedDocs()
  assert.ok(docs.includes('README.md') && docs.includes('docs/aws-setup.md') && docs.includes('CHANGELOG.md'), docs.join(' '))
  const broken: string[] = []
  let checked = 0
  for (const doc of docs) {
    for (const [ , target ] of prose(packed(doc)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue
      checked++
      const [ path = '', anchor ] = target!.split('#')
      const resolved = path ? posix.normalize(posix.join(posix.dirname(doc), path)) : doc
      if (resolved.startsWith('../') || !files.includes(resolved)) { broken.push(`${doc}: ${target} (${resolved} is not in the package)`); continue }
      if (anchor && resolved.endsWith('.md') && !anchorsOf(packed(resolved)).has(anchor)) broken.push(`${doc}: ${target} (no heading #${anchor} in ${resolved})`)
    }
  }
  assert.ok(checked >= 20, `${checked} relative links checked`)
  assert.deepEqual(broken, [], 'link them at ' + `${PROJECT_URL}/-/blob/main/<path>, or ship them`)
})

test('no shipped doc sends users to files they do not have (test/, example-app/, scripts/, src/, CONTRIBUTING.md) but by the repository\'s URL', () => {
  const found: string[] = []
  for (const doc of shippedDocs()) {
    // a link to the repository (its text may name the file) is how users reach them
    const text = packed(doc).replace(/\[[^\]]*\]\(https:\/\/gitlab\.com\/arc-gitlab-oidc\/arc-plugin-gitlab-oidc\/[^)]*\)/g, 'LINK')
      .replace(/https?:\/\/[^\s)>\]]+/g, 'URL')
    // The CHANGELOG records changes to the repository (tests, scripts) in its words; it still may
    // not send anyone there: no command runs one of them, no link points at one.
    const lines = doc === 'CHANGELOG.md' ? text.split('\n').filter(l => /\b(node|npx|cd|cat|cp)\s+(?:\.\/)?(test|example-app|scripts|src)\//.test(l)) : text.split('\n')
    for (const line of lines) for (const m of line.matchAll(UNSHIPPED)) found.push(`${doc}: ${m[0]} in "${line.trim().slice(0, 100)}"`)
  }
  assert.deepEqual(found, [])
})

test('every command in a shipped doc runs from the app\'s directory: the package\'s files by node_modules/arc-plugin-gitlab-oidc/, which are in the tarball', () => {
  const SHIPPED_DIRS = /(?<![\w./-])(?:iam|templates|docs|dist)\/[\w./-]*\w/g
  const wrong: string[] = []
  let commands = 0
  for (const doc of shippedDocs()) {
    const md = packed(doc)
    const blocks = [ ...md.matchAll(/^```(?:sh|shell|bash|console)?\n([\s\S]*?)^```/gm) ].flatMap(m => m[1]!.split('\n'))
    const spans = [ ...prose(md).matchAll(/`([^`\n]+)`/g) ].map(m => m[1]!)
    for (const line of [ ...blocks, ...spans ].filter(l => /^\s*(?:\$ )?(aws|npx|npm|node|cp|cmp|cat|cd|diff)\s/.test(l))) {
      commands++
      for (const m of line.replace(/https?:\/\/\S+/g, 'URL').matchAll(SHIPPED_DIRS)) wrong.push(`${doc}: ${m[0]} in "${line.trim()}" (write node_modules/arc-plugin-gitlab-oidc/${m[0]})`)
      if (/^\s*cd\s/.test(line) && !/^\s*cd\s+(\.\.?|~|-|\$\w+)?\s*$/.test(line)) wrong.push(`${doc}: "${line.trim()}" (commands run from the app's directory)`)
    }
    for (const m of md.matchAll(/node_modules\/arc-plugin-gitlab-oidc\/(\w[\w./-]*\w)/g)) {
      if (!files.includes(m[1]!)) wrong.push(`${doc}: node_modules/arc-plugin-gitlab-oidc/${m[1]} is not in the package`)
    }
  }
  assert.ok(commands >= 10, `${commands} commands checked`)
  assert.deepEqual(wrong, [])
})
