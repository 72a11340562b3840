/**
 * deploy.end, after a real deploy in a GitLab job: read the stack's outputs with the credentials
 * the plugin obtained, through Architect's own AWS client (aws-lite and its CloudFormation
 * plugin: Architect does not pass the outputs to deploy.end), and write the dotenv and
 * annotations reports the job's `artifacts: reports:` pick up. A failure here warns: the deploy
 * itself has finished.
 */
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { Outcome } from '../plugin/activate.ts'
import { done, warning } from '../report/format.ts'
import { partitionOf } from '../iam/arns.ts'
import { fs } from '../shared/builtins.ts'
import { annotationsReport, deployUrl, dotenvReport, reportPathProblem, type DeployFacts, type ReportFiles, type StackOutput } from './reports.ts'

const require = createRequire(import.meta.url)
/** aws-lite's CloudFormation plugin (an ES module without types): aws-lite takes the import's promise. */
const CLOUDFORMATION_PLUGIN: string = '@aws-lite/cloudformation'

export interface DeployEndParams {
  dryRun?: boolean
  stackName?: string
  inventory?: { inv?: { aws?: { region?: string }, _project?: { cwd?: string } } }
}

export interface StackDescription { StackId?: string, Outputs?: StackOutput[] }

export interface DeployEndIo {
  out: (s: string) => void
  err: (s: string) => void
  /** DescribeStacks; the real one uses aws-lite with the credentials in process.env. */
  describeStack?: (stackName: string, region: string) => Promise<StackDescription>
}

export async function deployEnd (outcome: Outcome, params: DeployEndParams, io: DeployEndIo): Promise<void> {
  if (outcome.kind !== 'assumed' || outcome.origin !== 'gitlab' || params.dryRun || !params.stackName) return
  const region = params.inventory?.inv?.aws?.region ?? outcome.settings.region.value
  const cwd = params.inventory?.inv?._project?.cwd ?? process.cwd()
  let stack: StackDescription = {}
  try {
    stack = await (io.describeStack ?? describeStack)(params.stackName, region)
  }
  catch (err) {
    io.err(warning(`Could not read the outputs of stack ${params.stackName}: the reports have no ARC_DEPLOY_URL`, [
      `${(err as Error).name ?? 'Error'}: ${(err as Error).message}`,
      'The deploy itself finished. The role needs cloudformation:DescribeStacks on its stacks.',
    ]))
  }
  const facts: DeployFacts = {
    stage: outcome.stage,
    stackName: params.stackName,
    ...(stack.StackId ? { stackId: stack.StackId } : {}),
    region,
    partition: partitionOf(outcome.roleArn),
    sessionName: outcome.sessionName,
    outputs: stack.Outputs ?? [],
  }
  const { dotenvReport: dotenvFile, annotationsReport: annotationsFile } = outcome.settings
  const report = (name: string) => ({ name, path: realPath(cwd, name) })
  const refused = reportPathProblem(report(dotenvFile.value), report(annotationsFile.value), appFiles(cwd))
  if (refused) {
    io.err(warning(`Not writing the deploy reports: ${refused}`, [
      'Name two different files that are not part of the app (ARC_DEPLOY_DOTENV / ARC_DEPLOY_ANNOTATIONS, or dotenv-report / annotations-report in @gitlab-oidc).',
      'The deploy itself finished.',
    ]))
    return
  }
  try {
    for (const [file, text] of [[dotenvFile.value, dotenvReport(facts)], [annotationsFile.value, annotationsReport(facts)]] as const) {
      refuseLinks(cwd, file)
      fs.mkdirSync(dirname(join(cwd, file)), { recursive: true })
      fs.writeFileSync(join(cwd, file), text)
    }
  }
  catch (err) {
    io.err(warning(`Could not write the deploy reports: ${(err as Error).message}`))
    return
  }
  const url = deployUrl(facts.outputs)
  io.out(done(`Deployed ${facts.stackName}${url ? ` at ${url}` : ''}`, [['reports', `${dotenvFile.value} (dotenv), ${annotationsFile.value} (annotations)`]]))
}

/** A report's absolute path, links in its existing part resolved (two names of one file compare equal). */
function realPath (cwd: string, file: string): string {
  const path = resolve(cwd, file)
  try { return fs.realpathSync(path) }
  catch {
    try { return join(fs.realpathSync(dirname(path)), path.slice(dirname(path).length + 1)) }
    catch { return path }
  }
}

/** The app as reportPathProblem sees it: what is at a path (a file read at most a report's size, non-blocking), and git's index. */
function appFiles (cwd: string): ReportFiles {
  return {
    at: path => {
      let fd: number
      try { fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK) }
      catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' }
        if ((err as NodeJS.ErrnoException).code === 'EISDIR') return { kind: 'directory' }
        throw err
      }
      try {
        const stats = fs.fstatSync(fd)
        if (stats.isDirectory()) return { kind: 'directory' }
        if (!stats.isFile()) return { kind: 'file', text: '' }
        const buffer = Buffer.alloc(8192)
        return { kind: 'file', text: buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0)) }
      }
      finally { fs.closeSync(fd) }
    },
    tracked: path => {
      try {
        execFileSync('git', ['ls-files', '--error-unmatch', '--', path], { cwd, stdio: 'ignore', timeout: 5000 })
        return true
      }
      catch { return false }
    },
  }
}

/**
 * A report is never written through a symbolic link: a committed `arc-deploy.env` that links
 * elsewhere would overwrite the link's target, a linked directory would be written into, and a
 * dangling link's target would be created. Every part of the path inside the app is checked.
 */
export function refuseLinks (cwd: string, file: string): void {
  const parts = relative(cwd, join(cwd, file)).split(sep).filter(Boolean)
  let path = cwd
  for (const part of parts) {
    path = join(path, part)
    let isLink: boolean
    try { isLink = fs.lstatSync(path).isSymbolicLink() }
    catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    if (isLink) throw new Error(`${relative(cwd, path) || path} is a symbolic link: reports are never written through links (remove it, or set another report path)`)
  }
}

interface AwsLite { CloudFormation: { DescribeStacks (p: { StackName: string }): Promise<{ Stacks?: StackDescription[] }> } }
type AwsLiteFactory = (config: { region: string, plugins: unknown[], retries?: number }) => Promise<AwsLite>

async function describeStack (stackName: string, region: string): Promise<StackDescription> {
  const awsLite = require('@aws-lite/client') as AwsLiteFactory
  const aws = await awsLite({ region, plugins: [import(CLOUDFORMATION_PLUGIN)], retries: 2 })
  const { Stacks } = await aws.CloudFormation.DescribeStacks({ StackName: stackName })
  return Stacks?.[0] ?? {}
}
