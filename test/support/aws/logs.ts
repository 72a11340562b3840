// CloudWatch Logs (AWS JSON 1.1), as Architect uses it: `arc destroy` looks for and deletes the
// stack's Lambda log groups (DescribeLogGroups, DeleteLogGroup); `arc logs` reads a function's
// group (DescribeLogStreams, newest first, then GetLogEvents per stream; `--destroy`:
// DeleteLogGroup). No function runs here: a test writes what a function would have logged with
// putLogEvents. A group exists once something was logged in it, as in AWS (Lambda creates it on
// its first invocation). Parameters the stand-in does not model are refused, not ignored.
import { AwsError, jsonResult, notImplemented } from './protocol.ts'
import { jsonBody, type Service } from './service.ts'
import type { AwsState } from './state.ts'

export interface LogEvent { timestamp: number, message: string, ingestionTime: number }
interface LogStream { name: string, creationTime: number, events: LogEvent[] }
type LogGroups = Map<string, { creationTime: number, streams: Map<string, LogStream> }>

// Kept beside the state (not in it), keyed by it: one store per stand-in.
const stores = new WeakMap<AwsState, LogGroups>()
function groupsOf (state: AwsState): LogGroups {
  let groups = stores.get(state)
  if (!groups) stores.set(state, groups = new Map())
  return groups
}

/** What a function logged: events appended to a stream of a group (both created when missing). */
export function putLogEvents (state: AwsState, groupName: string, streamName: string, messages: string[], at = Date.now()): void {
  const groups = groupsOf(state)
  let group = groups.get(groupName)
  if (!group) groups.set(groupName, group = { creationTime: at, streams: new Map() })
  let stream = group.streams.get(streamName)
  if (!stream) group.streams.set(streamName, stream = { name: streamName, creationTime: at, events: [] })
  messages.forEach((message, i) => stream.events.push({ timestamp: at + i, message, ingestionTime: at + i }))
}

/** The names of the log groups that exist. */
export function logGroupNames (state: AwsState): string[] {
  return [ ...groupsOf(state).keys() ]
}

function params (body: Record<string, unknown>, action: string, allowed: string[]): Record<string, unknown> {
  const unknown = Object.keys(body).filter(k => !allowed.includes(k))
  if (unknown.length) throw new AwsError('NotImplementedByStandIn', `The AWS stand-in does not model ${unknown.join(', ')} of logs ${action}`, 400)
  return body
}

function group (state: AwsState, body: Record<string, unknown>) {
  const name = body.logGroupName
  if (typeof name !== 'string' || !name) throw new AwsError('InvalidParameterException', '1 validation error detected: Value null at \'logGroupName\' failed to satisfy constraint: Member must not be null', 400)
  const found = groupsOf(state).get(name)
  if (!found) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400)
  return { name, ...found }
}

const streamInfo = (groupName: string, s: LogStream, region: string, account: string) => ({
  logStreamName: s.name,
  creationTime: s.creationTime,
  firstEventTimestamp: s.events[0]?.timestamp,
  lastEventTimestamp: s.events.at(-1)?.timestamp,
  lastIngestionTime: s.events.at(-1)?.ingestionTime,
  uploadSequenceToken: '1',
  arn: `arn:aws:logs:${region}:${account}:log-group:${groupName}:log-stream:${s.name}`,
  storedBytes: 0,
})

export const logs: Service = {
  name: 'logs',
  protocol: 'json',
  action: req => String(req.headers['x-amz-target'] ?? '').replace(/^Logs_\d+\./, '') || 'Unknown',
  summarize (req) {
    const body = jsonBody(req)
    return Object.fromEntries([ 'logGroupName', 'logGroupNamePrefix', 'logStreamName' ].filter(k => typeof body[k] === 'string').map(k => [ k, String(body[k]) ]))
  },
  handle (req, action) {
    const body = jsonBody(req)
    const groups = groupsOf(req.state)
    switch (action) {
      case 'DescribeLogGroups': {
        const { logGroupNamePrefix: prefix } = params(body, action, [ 'logGroupNamePrefix', 'limit' ])
        const names = [ ...groups.keys() ].filter(n => typeof prefix !== 'string' || n.startsWith(prefix)).sort()
        return jsonResult({ logGroups: names.map(n => ({ logGroupName: n, creationTime: groups.get(n)!.creationTime, storedBytes: 0 })) })
      }
      case 'DeleteLogGroup': {
        const g = group(req.state, params(body, action, [ 'logGroupName' ]))
        groups.delete(g.name)
        return jsonResult({})
      }
      case 'DescribeLogStreams': {
        const p = params(body, action, [ 'logGroupName', 'descending', 'orderBy', 'limit' ])
        const g = group(req.state, p)
        const streams = [ ...g.streams.values() ]
        if (p.orderBy === 'LastEventTime') streams.sort((a, b) => (a.events.at(-1)?.timestamp ?? 0) - (b.events.at(-1)?.timestamp ?? 0))
        else if (p.orderBy === undefined || p.orderBy === 'LogStreamName') streams.sort((a, b) => a.name.localeCompare(b.name))
        else throw new AwsError('InvalidParameterException', `orderBy ${String(p.orderBy)} is not LogStreamName or LastEventTime`, 400)
        if (p.descending === true) streams.reverse()
        const account = req.caller?.arn.split(':')[4] ?? '000000000000'
        return jsonResult({ logStreams: streams.slice(0, typeof p.limit === 'number' ? p.limit : 50).map(s => streamInfo(g.name, s, req.region, account)) })
      }
      case 'GetLogEvents': {
        const p = params(body, action, [ 'logGroupName', 'logStreamName' ])
        const s = group(req.state, p).streams.get(String(p.logStreamName))
        if (!s) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.', 400)
        return jsonResult({ events: s.events, nextForwardToken: `f/${s.events.length}`, nextBackwardToken: 'b/0' })
      }
      default: throw notImplemented('logs', action)
    }
  },
}
