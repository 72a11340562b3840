/**
 * AWS set up as a user sets it up: in an app directory with the packed plugin installed, run
 * `arc-gitlab-oidc setup` (the installed bin), then every `aws cloudformation deploy` it prints
 * against the AWS stand-in (test/support/aws-cli.ts), each signed with an administrator's key of
 * the account its Stages parameter names. The stand-in CloudFormation creates the template's OIDC
 * provider, boundaries and deploy roles in the stand-in IAM, so the deploys that follow run under
 * exactly what the template grants (use startStandIns({ iam: 'none', publicIssuer })).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTemplate, type JsonObject } from './cfn-template.ts'
import { projectIdOf } from './gitlab.ts'
import type { Credentials } from './aws.ts'
import { awsCommands, runAwsCli, type AwsCliResult } from './aws-cli.ts'
import { nodeBinary, cleanEnv } from './harness.ts'
import { runProcessGroup } from './process.ts'
import type { StandIns } from './standins.ts'

export interface IamSetup {
  /** What setup printed. */
  setupOutput: string
  /** Each command run, with its result (stdout/stderr as the AWS CLI prints them). */
  runs: Array<{ words: string[], stage: 'production' | 'staging', result: AwsCliResult }>
  /** Each stage's administrator key (in that stage's account). */
  admins: Record<'production' | 'staging', Credentials>
}

export interface IamSetupOptions {
  /** An app directory with the packed plugin in node_modules. */
  appDir: string
  /** GitLab project path (default acme/oidc-example, the stand-ins' default). */
  project?: string
  /** The project's ID (default: the one the GitLab stand-in gives that path, projectIdOf). */
  projectId?: string
  branch?: string
  /** Extra setup arguments (e.g. ['--parameter', 'AllowMainTableDeletion=true']). */
  args?: string[]
  /** Change what each command does before it runs (e.g. point --template-file at a changed copy). */
  rewrite?: (words: string[]) => string[]
}

/** The Stages=<stage> of an `aws cloudformation deploy` command's --parameter-overrides. */
const stageOf = (words: string[]): 'production' | 'staging' => {
  const stage = words.find(w => w.startsWith('Stages='))?.slice('Stages='.length)
  assert.ok(stage === 'production' || stage === 'staging', `a deploy command for one stage: ${words.join(' ')}`)
  return stage
}

/** Run `arc-gitlab-oidc setup` in the app, then its AWS commands, each in its stage's account. */
export async function setupFromTemplate (s: StandIns, opts: IamSetupOptions): Promise<IamSetup> {
  const admins = {
    production: s.aws.addDeveloperKey({ userName: 'admin', accountId: s.accounts.production }),
    staging: s.aws.addDeveloperKey({ userName: 'admin', accountId: s.accounts.staging }),
  }
  const node = nodeBinary('node22')
  const bin = join(opts.appDir, 'node_modules', 'arc-plugin-gitlab-oidc', 'dist', 'cli', 'main.js')
  const args = [
    'setup', '--project', opts.project ?? 'acme/oidc-example', '--project-id', opts.projectId ?? projectIdOf(opts.project ?? 'acme/oidc-example'), '--branch', opts.branch ?? 'main', '--gitlab-url', s.gitlab.issuer,
    ...s.audience !== s.gitlab.issuer ? [ '--aud', s.audience ] : [],
    '--staging-account', s.accounts.staging, '--production-account', s.accounts.production, ...opts.args ?? [],
  ]
  const setup = await runProcessGroup(node, [ bin, ...args ], { cwd: opts.appDir, env: cleanEnv(node), timeoutMs: 60_000 })
  assert.equal(setup.code, 0, `setup: ${setup.stdout}${setup.stderr}`)
  const runs: IamSetup['runs'] = []
  for (const printed of awsCommands(setup.stdout)) {
    if (printed[2] !== 'deploy') continue
    const words = opts.rewrite ? opts.rewrite(printed) : printed
    const stage = stageOf(words)
    const result = await runAwsCli(words, { endpoint: s.aws.endpoint, credentials: admins[stage], region: 'us-west-2', cwd: opts.appDir })
    runs.push({ words, stage, result })
  }
  return { setupOutput: setup.stdout, runs, admins }
}

/**
 * A copy of a YAML template as JSON (what CloudFormation accepts as well), changed by `change`:
 * for a deploy with a statement removed, or a resource added, without depending on the text.
 */
export function changedTemplate (templateFile: string, change: (tpl: JsonObject) => void): string {
  const tpl = parseTemplate(readFileSync(templateFile, 'utf8'))
  change(tpl)
  const out = join(mkdtempSync(join(tmpdir(), 'iam-template-')), 'gitlab-oidc.json')
  writeFileSync(out, JSON.stringify(tpl))
  return out
}

/** The --template-file of a command replaced. */
export const withTemplateFile = (words: string[], file: string): string[] =>
  words.map((w, i) => words[i - 1] === '--template-file' ? file : w)
