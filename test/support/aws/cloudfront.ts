// CloudFront (REST-XML): deploy lists distributions to find an Architect CDN.
// The account has none; creating/updating distributions (@cdn) is not implemented.
import { notImplemented, t, x, xmlResult } from './protocol.ts'
import type { Service, ServiceRequest } from './service.ts'

const CF_XMLNS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/'

function action (req: ServiceRequest): string {
  const path = req.rawPath.replace(/^\/\d{4}-\d{2}-\d{2}/, '')
  const m = req.method
  if (path === '/distribution') return m === 'GET' ? 'ListDistributions' : m === 'POST' ? 'CreateDistribution' : 'Unknown'
  if (/^\/distribution\/[^/]+\/invalidation$/.test(path)) return m === 'POST' ? 'CreateInvalidation' : 'ListInvalidations'
  if (/^\/distribution\/[^/]+\/config$/.test(path)) return m === 'PUT' ? 'UpdateDistribution' : 'GetDistributionConfig'
  if (/^\/distribution\/[^/]+$/.test(path)) return m === 'DELETE' ? 'DeleteDistribution' : 'GetDistribution'
  return 'Unknown'
}

export const cloudfront: Service = {
  name: 'cloudfront',
  protocol: 'rest-xml',
  xmlns: CF_XMLNS,
  action,
  handle (req, act) {
    if (act === 'ListDistributions') {
      return xmlResult(x('DistributionList', { xmlns: CF_XMLNS },
        t('Marker', req.query.get('Marker') ?? ''), t('MaxItems', 100), t('IsTruncated', false), t('Quantity', 0)))
    }
    throw notImplemented('cloudfront', act)
  },
}
