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

/** The app's address: the HTTP API, else the static site bucket (the outputs Architect's stacks have). */
export function deployUrl (outputs: StackOutput[]): string | undefined {
  const value = (key: string) => outputs.find(o => o.OutputKey === key)?.OutputValue
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
    `ARC_STACK_NAME=${facts.stackName}`,
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
