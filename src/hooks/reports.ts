/**
 * What GitLab learns after a deploy (pure functions): a dotenv report, whose variables become the
 * job's environment URL (`environment: url: $ARC_DEPLOY_URL`), and an annotations report, whose
 * links GitLab shows on the job page. Nothing secret goes into either: only the stack's outputs,
 * its name, the stage and the session name (which CloudTrail shows anyway).
 */
import type { Stage } from '../plugin/detect.ts'

export interface StackOutput { OutputKey?: string, OutputValue?: string }

export interface DeployFacts {
  stage: Stage
  stackName: string
  stackId?: string
  region: string
  /** From the role ARN: aws, aws-cn, aws-us-gov. */
  partition: string
  sessionName: string
  outputs: StackOutput[]
}

/**
 * GitLab's dotenv rules: the whole file under 5 KiB, one KEY=value a line, no quote escapes.
 * A URL longer than this, or one with spaces, quotes or control characters, is left out: a
 * dotenv report GitLab cannot parse fails the job's artifact upload after a good deploy.
 */
export const MAX_URL_LENGTH = 2048
const PLAIN_URL = /^https?:\/\/[!#-&(-~]+$/

/** The app's address: the HTTP API, else the static site bucket (the outputs Architect's stacks have), when it is a plain URL. */
export function deployUrl (outputs: StackOutput[]): string | undefined {
  const value = (key: string) => {
    const found = Array.isArray(outputs) ? outputs.find(o => o?.OutputKey === key)?.OutputValue : undefined
    return typeof found === 'string' && found.length <= MAX_URL_LENGTH && PLAIN_URL.test(found) ? found : undefined
  }
  return value('API') ?? value('BucketURL')
}

/** The console of each partition; the commercial one has regional hosts, the others take the region as a parameter only. */
const CONSOLES: Record<string, (region: string) => string> = {
  aws: region => `${region}.console.aws.amazon.com`,
  'aws-cn': () => 'console.amazonaws.cn',
  'aws-us-gov': () => 'console.amazonaws-us-gov.com',
}

export function consoleLinks (facts: DeployFacts): { stack: string, trail: string } {
  const host = (CONSOLES[facts.partition] ?? CONSOLES.aws!)(facts.region)
  const region = encodeURIComponent(facts.region)
  return {
    stack: `https://${host}/cloudformation/home?region=${region}#/stacks/stackinfo?stackId=${encodeURIComponent(facts.stackId ?? facts.stackName)}`,
    trail: `https://${host}/cloudtrailv2/home?region=${region}#/events?Username=${encodeURIComponent(facts.sessionName)}`,
  }
}

/** GitLab's dotenv format: one KEY=value a line, no quotes, no newlines in values. */
export function dotenvReport (facts: DeployFacts): string {
  const url = deployUrl(facts.outputs)
  const lines = [
    ...(url ? [`ARC_DEPLOY_URL=${url}`] : []),
    // CloudFormation stack names are letters, digits and hyphens (at most 128).
    `ARC_STACK_NAME=${facts.stackName.replace(/[^A-Za-z0-9-]/g, '').slice(0, 128)}`,
    `ARC_STAGE=${facts.stage}`,
  ]
  return lines.map(l => l.replace(/[\r\n]/g, '')).join('\n') + '\n'
}

/** GitLab's annotations report: a section of external links. */
export function annotationsReport (facts: DeployFacts): string {
  const url = deployUrl(facts.outputs)
  const links = consoleLinks(facts)
  const link = (label: string, href: string) => ({ external_link: { label, url: href } })
  return JSON.stringify({
    'arc-deploy': [
      ...(url ? [link(`${facts.stage}: ${url}`, url)] : []),
      link(`CloudFormation stack ${facts.stackName}`, links.stack),
      link(`CloudTrail events of session ${facts.sessionName}`, links.trail),
    ],
  }, null, 2) + '\n'
}

/** Whether a file's text is a report this plugin wrote (so a later deploy may replace it). */
export function isOurReport (text: string): boolean {
  if (/^(?:ARC_(?:DEPLOY_URL|STACK_NAME|STAGE)=[^\n]*\n)+$/.test(text)) return true
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).join() === 'arc-deploy'
  }
  catch { return false }
}

/** A report as the settings name it, and its absolute path (links resolved). */
export interface ReportPath { name: string, path: string }

/** What the report-path check reads of the app (node:fs and git in the hook; given in tests). */
export interface ReportFiles {
  /** What is at a path: nothing, a directory, or a file and its text (at most a report's size). */
  at: (path: string) => { kind: 'none' } | { kind: 'directory' } | { kind: 'file', text: string }
  /** Whether git tracks the file (false outside a repository or without git). */
  tracked: (path: string) => boolean
}

/**
 * Why the reports must not be written at these paths, or undefined: the two are one file (GitLab
 * then cannot parse the dotenv report); one names a directory; one names an existing file that is
 * not a report of ours (the manifest, package.json, anything git tracks, anything else). A report
 * path comes from the manifest or a CI variable, so a branch could otherwise overwrite any file.
 */
export function reportPathProblem (dotenv: ReportPath, annotations: ReportPath, files: ReportFiles): string | undefined {
  if (dotenv.path === annotations.path) return `the dotenv and annotations reports are the same file, ${dotenv.name}`
  for (const report of [dotenv, annotations]) {
    const found = report.name.endsWith('/') ? { kind: 'directory' as const } : files.at(report.path)
    if (found.kind === 'directory') return `${report.name} is a directory`
    if (found.kind === 'file') {
      if (files.tracked(report.path)) return `${report.name} is a file git tracks, not a report of a previous deploy`
      if (!isOurReport(found.text)) return `${report.name} is an existing file that is not a report of a previous deploy`
    }
  }
  return undefined
}
