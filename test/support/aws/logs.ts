// CloudWatch Logs (AWS JSON 1.1): destroy looks for the stack's Lambda log groups.
// No function ever ran here, so there are none.
import { AwsError, jsonResult, notImplemented } from './protocol.ts'
import type { Service } from './service.ts'

export const logs: Service = {
  name: 'logs',
  protocol: 'json',
  action: req => String(req.headers['x-amz-target'] ?? '').replace(/^Logs_\d+\./, '') || 'Unknown',
  handle (_req, action) {
    if (action === 'DescribeLogGroups') return jsonResult({ logGroups: [] })
    if (action === 'DeleteLogGroup') throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400)
    throw notImplemented('logs', action)
  },
}
