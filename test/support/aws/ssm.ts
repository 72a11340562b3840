// SSM Parameter Store (AWS JSON 1.1): what Inventory, deploy, env and destroy use.
import { AwsError, jsonResult, notImplemented } from './protocol.ts'
import { jsonBody, type Service, type ServiceRequest } from './service.ts'
import { parametersOf, type Parameter } from './state.ts'

const target = (req: ServiceRequest): string => String(req.headers['x-amz-target'] ?? '')

function toWire (p: Parameter, region: string, accountId: string): Record<string, unknown> {
  const name = p.Name.startsWith('/') ? p.Name : `/${p.Name}`
  return {
    Name: p.Name,
    Type: p.Type,
    Value: p.Value,
    Version: p.Version,
    LastModifiedDate: p.LastModifiedDate / 1000,
    ARN: `arn:aws:ssm:${region}:${accountId}:parameter${name}`,
    DataType: p.DataType,
  }
}

const notFound = (): AwsError => new AwsError('ParameterNotFound', '', 400)

function page<T> (items: T[], maxResults: unknown, nextToken: unknown, limit: number): { items: T[], NextToken?: string } {
  const max = typeof maxResults === 'number' ? maxResults : limit
  if (max < 1 || max > limit) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`, 400)
  }
  const start = typeof nextToken === 'string' ? Number(Buffer.from(nextToken, 'base64').toString('utf8')) || 0 : 0
  const slice = items.slice(start, start + max)
  const more = start + max < items.length
  return more ? { items: slice, NextToken: Buffer.from(String(start + max)).toString('base64') } : { items: slice }
}

export const ssm: Service = {
  name: 'ssm',
  protocol: 'json',
  action: req => target(req).replace(/^AmazonSSM\./, '') || 'Unknown',
  summarize (req) {
    const b = jsonBody(req)
    const out: Record<string, string> = {}
    for (const k of [ 'Name', 'Path' ]) if (typeof b[k] === 'string') out[k] = b[k] as string
    if (Array.isArray(b.Names)) out.Names = b.Names.join(',')
    return out
  },
  handle (req, action) {
    const b = jsonBody(req)
    // Parameter Store is per account: the caller's
    const accountId = req.caller?.account ?? req.state.accountId
    const parameters = parametersOf(req.state, accountId)
    const wire = (p: Parameter): Record<string, unknown> => toWire(p, req.region, accountId)
    switch (action) {
      case 'GetParametersByPath': {
        const path = String(b.Path ?? '')
        if (!path.startsWith('/')) throw new AwsError('ValidationException', 'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".', 400)
        const prefix = path.endsWith('/') ? path : path + '/'
        const matches = [ ...parameters.values() ]
          .filter(p => p.Name.startsWith(prefix) && (b.Recursive === true || !p.Name.slice(prefix.length).includes('/')))
          .sort((a, c) => a.Name < c.Name ? -1 : 1)
        const { items, NextToken } = page(matches, b.MaxResults, b.NextToken, 10)
        return jsonResult({ Parameters: items.map(wire), ...(NextToken ? { NextToken } : {}) })
      }
      case 'GetParameter': {
        const p = parameters.get(String(b.Name))
        if (!p) throw notFound()
        return jsonResult({ Parameter: wire(p) })
      }
      case 'GetParameters': {
        const names = Array.isArray(b.Names) ? b.Names.map(String) : []
        return jsonResult({
          Parameters: names.filter(n => parameters.has(n)).map(n => wire(parameters.get(n)!)),
          InvalidParameters: names.filter(n => !parameters.has(n)),
        })
      }
      case 'PutParameter': {
        const name = String(b.Name ?? '')
        if (!name) throw new AwsError('ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null", 400)
        const existing = parameters.get(name)
        if (existing && b.Overwrite !== true) {
          throw new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.', 400)
        }
        const version = (existing?.Version ?? 0) + 1
        parameters.set(name, {
          Name: name,
          Type: String(b.Type ?? existing?.Type ?? 'String'),
          Value: String(b.Value ?? ''),
          Version: version,
          LastModifiedDate: Date.now(),
          DataType: String(b.DataType ?? 'text'),
        })
        return jsonResult({ Version: version, Tier: 'Standard' })
      }
      case 'DeleteParameter': {
        if (!parameters.delete(String(b.Name))) throw notFound()
        return jsonResult({})
      }
      case 'DeleteParameters': {
        const names = Array.isArray(b.Names) ? b.Names.map(String) : []
        const deleted = names.filter(n => parameters.delete(n))
        return jsonResult({ DeletedParameters: deleted, InvalidParameters: names.filter(n => !deleted.includes(n)) })
      }
      default:
        throw notImplemented('ssm', action)
    }
  },
}
