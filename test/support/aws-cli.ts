/**
 * The AWS CLI commands `arc-gitlab-oidc setup` prints, run against the AWS stand-in without an AWS
 * CLI: a shell-words reading of the printed lines, then the API calls the AWS CLI v2 makes for
 * them, signed with the given credentials (an account administrator's).
 *
 * `aws cloudformation deploy` follows awscli/customizations/cloudformation/deploy.py and
 * deployer.py: a template file over 51,200 bytes is refused before any call (it must go through
 * --s3-bucket); the template's parameters are merged with --parameter-overrides (others keep their
 * previous value on an existing stack: UsePreviousValue); DescribeStacks tells CREATE from UPDATE
 * (a stack in REVIEW_IN_PROGRESS counts as absent); CreateChangeSet with TemplateBody, then the
 * change_set_create_complete waiter (DescribeChangeSet; an empty change set is "No changes to
 * deploy", exit 0), ExecuteChangeSet, and the stack_create_complete / stack_update_complete waiter
 * (DescribeStacks). The waiters poll at once here: the stand-in has no delay to wait out.
 * `aws cloudformation describe-stacks --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]'
 * --output text` prints the outputs as tab-separated lines. Anything else is refused.
 * Exit codes as the AWS CLI v2 documents them: 0, 252 usage, 254 a service error, 255 otherwise.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseTemplate, type JsonObject } from './cfn-template.ts'
import { unescapeXml } from './aws/protocol.ts'
import { signRequest, type Credentials } from './aws.ts'

/** What the AWS CLI would get from its environment: the endpoint (AWS_ENDPOINT_URL), credentials, region, working directory. */
export interface AwsCliContext {
  endpoint: string
  credentials: Credentials
  region: string
  cwd: string
}

export interface AwsCliResult { code: number, stdout: string, stderr: string }

/** The CloudFormation TemplateBody limit the CLI checks before any call (CloudFormation quotas; deploy.py). */
export const TEMPLATE_BODY_LIMIT = 51_200

/**
 * Shell words of a POSIX command line: blanks separate words; '...' is literal; "..." keeps
 * blanks and honours \ before $ ` " \ and newline; a bare \ quotes the next character and
 * \<newline> joins lines; # starts a comment at a word's start. Expansions are refused (setup
 * prints none), so a line that needs a shell is never half-read.
 */
export function shellWords (line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  const add = (s: string): void => { word = (word ?? '') + s }
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word)
      word = undefined
    }
    else if (c === '#' && word === undefined) {
      while (i < line.length && line[i] !== '\n') i++
    }
    else if (c === '\\') {
      const next = line[++i]
      if (next === undefined) throw new Error('shell words: a trailing backslash')
      if (next !== '\n') add(next)
    }
    else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new Error('shell words: an unterminated single quote')
      add(line.slice(i + 1, end))
      i = end
    }
    else if (c === '"') {
      let s = ''
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && '$`"\\\n'.includes(line[i + 1] ?? '')) {
          if (line[++i] !== '\n') s += line[i]
        }
        else if (line[i] === '$' || line[i] === '`') throw new Error('shell words: an expansion inside double quotes')
        else s += line[i]
      }
      if (i >= line.length) throw new Error('shell words: an unterminated double quote')
      add(s)
    }
    else if ('$`|&;<>()*?[{~'.includes(c)) throw new Error(`shell words: ${c} needs a shell`)
    else add(c)
  }
  if (word !== undefined) words.push(word)
  return words
}

/** The `aws ...` commands of a printed text (continuation lines joined), as shell words. */
export function awsCommands (text: string): string[][] {
  const commands: string[][] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (!/^aws\s/.test(lines[i]!)) continue
    let command = lines[i]!
    while (command.endsWith('\\') && i + 1 < lines.length) command += '\n' + lines[++i]
    commands.push(shellWords(command))
  }
  return commands
}

/* ------------------------------------------------------------------------ */
/* Options, as the CLI reads them                                            */
/* ------------------------------------------------------------------------ */

class Usage extends Error {}

/** --name value, and list options (--capabilities A B, --parameter-overrides K=V ...) until the next option. */
function options (args: string[], lists: string[], flags: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!
    if (!name.startsWith('--')) throw new Usage(`Unknown options: ${name}`)
    const key = name.slice(2)
    if (flags.includes(key)) {
      out.set(key, [])
      continue
    }
    const values: string[] = []
    while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) {
      values.push(args[++i]!)
      if (!lists.includes(key)) break
    }
    if (!values.length) throw new Usage(`argument --${key}: expected ${lists.includes(key) ? 'at least one argument' : 'one argument'}`)
    out.set(key, values)
  }
  return out
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                     */
/* ------------------------------------------------------------------------ */

class ServiceError extends Error {
  readonly code: string
  constructor (code: string, operation: string, message: string) {
    super(`An error occurred (${code}) when calling the ${operation} operation: ${message}`)
    this.code = code
  }
}

type Xml = string

async function cfn (ctx: AwsCliContext, action: string, params: Record<string, string>): Promise<Xml> {
  const body = new URLSearchParams({ Action: action, Version: '2010-05-15', ...params }).toString()
  const url = ctx.endpoint.replace(/\/+$/, '') + '/'
  const headers = signRequest({
    method: 'POST', url, service: 'cloudformation', region: ctx.region, body, credentials: ctx.credentials,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  })
  const { host: _host, ...send } = headers
  const res = await fetch(url, { method: 'POST', headers: send, body })
  const text = await res.text()
  if (res.status >= 300) {
    throw new ServiceError(/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(res.status), action, unescapeXml(/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text))
  }
  return text
}

const value = (xml: Xml, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)
  return m ? unescapeXml(m[1]!) : undefined
}

/** has_stack: DescribeStacks; "does not exist" is false, REVIEW_IN_PROGRESS is false. */
async function hasStack (ctx: AwsCliContext, name: string): Promise<boolean> {
  try {
    const xml = await cfn(ctx, 'DescribeStacks', { StackName: name })
    return value(xml, 'StackStatus') !== 'REVIEW_IN_PROGRESS'
  }
  catch (err) {
    if (err instanceof ServiceError && err.message.includes(`Stack with id ${name} does not exist`)) return false
    throw err
  }
}

/** A waiter: poll until a status is reached (success) or a failure status shows (botocore's acceptors, at most `attempts` polls). */
async function wait (poll: () => Promise<string>, success: string[], failure: RegExp, attempts = 120): Promise<'success' | string> {
  for (let i = 0; i < attempts; i++) {
    const status = await poll()
    if (success.includes(status)) return 'success'
    if (failure.test(status)) return status
  }
  return 'timed out'
}

async function deploy (args: string[], ctx: AwsCliContext): Promise<AwsCliResult> {
  const o = options(args, [ 'capabilities', 'parameter-overrides', 'tags', 'notification-arns' ], [ 'no-execute-changeset', 'fail-on-empty-changeset', 'no-fail-on-empty-changeset' ])
  const stackName = o.get('stack-name')?.[0]
  const file = o.get('template-file')?.[0]
  if (!stackName || !file) throw new Usage('the following arguments are required: --template-file, --stack-name')
  for (const key of o.keys()) {
    if (![ 'stack-name', 'template-file', 'capabilities', 'parameter-overrides', 'no-execute-changeset', 'fail-on-empty-changeset', 'no-fail-on-empty-changeset' ].includes(key)) {
      throw new Usage(`--${key}: not modelled by the test interpreter`)
    }
  }
  const path = resolve(ctx.cwd, file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  }
  catch {
    return { code: 255, stdout: '', stderr: `\nInvalid template path ${file}\n` }
  }
  if (Buffer.byteLength(text) > TEMPLATE_BODY_LIMIT) {
    return {
      code: 255, stdout: '',
      stderr: '\nTemplates with a size greater than 51,200 bytes must be deployed via an S3 Bucket. Please add the --s3-bucket parameter to your command. The local template will be copied to that S3 bucket and then deployed.\n',
    }
  }
  const template = parseTemplate(text)
  const overrides = new Map((o.get('parameter-overrides') ?? []).map(kv => {
    const eq = kv.indexOf('=')
    if (eq < 1) throw new Usage(`${kv} value passed to --parameter-overrides must be of format Key=Value`)
    return [ kv.slice(0, eq), kv.slice(eq + 1) ] as [string, string]
  }))
  const exists = await hasStack(ctx, stackName)
  const params: Record<string, string> = {}
  let n = 0
  for (const key of Object.keys((template.Parameters ?? {}) as JsonObject)) {
    if (overrides.has(key)) {
      n++
      params[`Parameters.member.${n}.ParameterKey`] = key
      params[`Parameters.member.${n}.ParameterValue`] = overrides.get(key)!
    }
    else if (exists) {
      n++
      params[`Parameters.member.${n}.ParameterKey`] = key
      params[`Parameters.member.${n}.UsePreviousValue`] = 'true'
    }
  }
  ;(o.get('capabilities') ?? []).forEach((c, i) => { params[`Capabilities.member.${i + 1}`] = c })
  const type = exists ? 'UPDATE' : 'CREATE'
  const created = await cfn(ctx, 'CreateChangeSet', {
    StackName: stackName, ChangeSetName: `awscli-cloudformation-package-deploy-${Math.floor(Date.now() / 1000)}`, ChangeSetType: type,
    TemplateBody: text, Description: `Created by AWS CLI at ${new Date().toISOString().replace('Z', '')} UTC`, ...params,
  })
  const changeSetId = value(created, 'Id')!
  let stdout = '\nWaiting for changeset to be created..\n'
  let last = ''
  const changeSet = await wait(async () => {
    last = await cfn(ctx, 'DescribeChangeSet', { ChangeSetName: changeSetId, StackName: stackName })
    return value(last, 'Status') ?? ''
  }, [ 'CREATE_COMPLETE' ], /^FAILED$/)
  if (changeSet !== 'success') {
    const reason = value(last, 'StatusReason') ?? ''
    if (reason.includes("The submitted information didn't contain changes.")) {
      const fail = o.has('fail-on-empty-changeset')
      return { code: fail ? 255 : 0, stdout: stdout + `\nNo changes to deploy. Stack ${stackName} is up to date\n`, stderr: '' }
    }
    return { code: 255, stdout, stderr: `\nFailed to create the changeset: Waiter ChangeSetCreateComplete failed: Status: ${changeSet}. Reason: ${reason}\n` }
  }
  if (o.has('no-execute-changeset')) return { code: 0, stdout: stdout + `Changeset created successfully. Run the following command to review changes:\naws cloudformation describe-change-set --change-set-name ${changeSetId}\n`, stderr: '' }
  await cfn(ctx, 'ExecuteChangeSet', { ChangeSetName: changeSetId, StackName: stackName })
  stdout += 'Waiting for stack create/update to complete\n'
  const done = await wait(async () => value(await cfn(ctx, 'DescribeStacks', { StackName: stackName }), 'StackStatus') ?? '',
    [ type === 'CREATE' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE' ], /FAILED|ROLLBACK/)
  if (done !== 'success') {
    return { code: 255, stdout, stderr: `\nFailed to create/update the stack. Run the following command\nto fetch the list of events leading up to the failure\naws cloudformation describe-stack-events --stack-name ${stackName}\n` }
  }
  return { code: 0, stdout: stdout + `Successfully created/updated stack - ${stackName}\n`, stderr: '' }
}

const OUTPUTS_QUERY = 'Stacks[0].Outputs[].[OutputKey,OutputValue]'

async function describeStacks (args: string[], ctx: AwsCliContext): Promise<AwsCliResult> {
  const o = options(args, [], [])
  const stackName = o.get('stack-name')?.[0]
  if (!stackName || o.get('query')?.[0] !== OUTPUTS_QUERY || o.get('output')?.[0] !== 'text' || o.size !== 3) {
    throw new Usage(`describe-stacks: only --stack-name <name> --query '${OUTPUTS_QUERY}' --output text is modelled`)
  }
  const xml = await cfn(ctx, 'DescribeStacks', { StackName: stackName })
  const outputs = /<Outputs>([\s\S]*?)<\/Outputs>/.exec(xml)?.[1] ?? ''
  const lines = [ ...outputs.matchAll(/<member>([\s\S]*?)<\/member>/g) ].map(m => `${value(m[1]!, 'OutputKey')}\t${value(m[1]!, 'OutputValue')}`)
  return { code: 0, stdout: lines.map(l => l + '\n').join(''), stderr: '' }
}

/** Run one `aws ...` command (as shell words) against the stand-in. */
export async function runAwsCli (words: string[], ctx: AwsCliContext): Promise<AwsCliResult> {
  const [ aws, service, operation, ...args ] = words
  try {
    if (aws !== 'aws' || service !== 'cloudformation') throw new Usage(`not an aws cloudformation command: ${words.slice(0, 3).join(' ')}`)
    if (operation === 'deploy') return await deploy(args, ctx)
    if (operation === 'describe-stacks') return await describeStacks(args, ctx)
    throw new Usage(`aws cloudformation ${operation ?? ''}: not modelled by the test interpreter`)
  }
  catch (err) {
    if (err instanceof Usage) return { code: 252, stdout: '', stderr: `\naws: error: ${err.message}\n` }
    if (err instanceof ServiceError) return { code: 254, stdout: '', stderr: `\n${err.message}\n` }
    throw err
  }
}
