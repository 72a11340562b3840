// S3 (path-style addressing, as aws-lite uses for an IP endpoint): the bucket and
// object calls of deploy (deployment bucket, artifacts, static assets) and destroy.
import { createHash } from 'node:crypto'
import { AwsError, notImplemented, t, x, XML_DECL, xmlValues, type HttpResult } from './protocol.ts'
import { isoSeconds, type Service, type ServiceRequest } from './service.ts'
import type { Bucket } from './state.ts'

const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const BUCKET_NAME_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

function split (req: ServiceRequest): { bucket: string, key: string } {
  const path = req.rawPath.replace(/^\/+/, '')
  const i = path.indexOf('/')
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s)
    }
    catch {
      return s
    }
  }
  if (i < 0) return { bucket: decode(path), key: '' }
  return { bucket: decode(path.slice(0, i)), key: decode(path.slice(i + 1)) }
}

const SUBRESOURCES = [ 'acl', 'policy', 'website', 'cors', 'lifecycle', 'tagging', 'versioning', 'encryption', 'location', 'uploads', 'uploadId', 'ownershipControls', 'publicAccessBlock', 'notification', 'versions' ]

function action (req: ServiceRequest): string {
  const { bucket, key } = split(req)
  const m = req.method
  const sub = SUBRESOURCES.find(s => req.query.has(s))
  if (!bucket) return m === 'GET' ? 'ListBuckets' : 'Unknown'
  if (!key) {
    if (sub) return `${m}Bucket?${sub}`
    if (m === 'PUT') return 'CreateBucket'
    if (m === 'HEAD') return 'HeadBucket'
    if (m === 'DELETE') return 'DeleteBucket'
    if (m === 'POST' && req.query.has('delete')) return 'DeleteObjects'
    if (m === 'GET') return req.query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects'
    return 'Unknown'
  }
  if (sub) return `${m}Object?${sub}`
  if (m === 'PUT') return req.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject'
  if (m === 'GET') return 'GetObject'
  if (m === 'HEAD') return 'HeadObject'
  if (m === 'DELETE') return 'DeleteObject'
  return 'Unknown'
}

/** IAM actions differ from S3 API names. */
const IAM_ACTIONS: Record<string, string> = {
  HeadBucket: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  HeadObject: 's3:GetObject',
  DeleteObjects: 's3:DeleteObject',
  ListBuckets: 's3:ListAllMyBuckets',
  CopyObject: 's3:PutObject',
}

function xmlOk (body: string, status = 200, headers: Record<string, string> = {}): HttpResult {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: XML_DECL + body }
}

function requireBucket (req: ServiceRequest, name: string): Bucket {
  const b = req.state.buckets.get(name)
  if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, 'Sender', { BucketName: name })
  return b
}

/** Create a bucket directly (CloudFormation does this for AWS::S3::Bucket resources). */
export function createBucket (buckets: Map<string, Bucket>, name: string, region: string, owner?: string): Bucket {
  const existing = buckets.get(name)
  if (existing) return existing
  const bucket: Bucket = { name, region, created: Date.now(), objects: new Map(), ...(owner ? { owner } : {}) }
  buckets.set(name, bucket)
  return bucket
}

interface StoredObject {
  etag: string
  body: Buffer
  lastModified: number
  contentType?: string
  cacheControl?: string
  contentEncoding?: string
  metadata: Record<string, string>
}

function objectHeaders (o: StoredObject): Record<string, string> {
  const h: Record<string, string> = {
    etag: o.etag,
    'content-length': String(o.body.length),
    'last-modified': new Date(o.lastModified).toUTCString(),
    'content-type': o.contentType ?? 'binary/octet-stream',
    'accept-ranges': 'bytes',
  }
  if (o.cacheControl) h['cache-control'] = o.cacheControl
  if (o.contentEncoding) h['content-encoding'] = o.contentEncoding
  for (const [ k, v ] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v
  return h
}

export const s3: Service = {
  name: 's3',
  protocol: 's3',
  action,
  iamAction: a => IAM_ACTIONS[a] ?? `s3:${a.replace(/\?.*/, '')}`,
  summarize (req) {
    const { bucket, key } = split(req)
    return { ...(bucket ? { Bucket: bucket } : {}), ...(key ? { Key: key } : {}) }
  },
  handle (req, act) {
    const { bucket: name, key } = split(req)
    const { buckets } = req.state
    switch (act) {
      case 'ListBuckets':
        return xmlOk(x('ListAllMyBucketsResult', { xmlns: S3_XMLNS },
          x('Buckets', ...[ ...buckets.values() ].map(b => x('Bucket', t('Name', b.name), t('CreationDate', isoSeconds(b.created))))),
          x('Owner', t('ID', req.state.accountId))))
      case 'CreateBucket': {
        if (!BUCKET_NAME_RE.test(name)) throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, 'Sender', { BucketName: name })
        if (buckets.has(name)) {
          throw new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, 'Sender', { BucketName: name })
        }
        const location = xmlValues(req.body.toString('utf8'), 'LocationConstraint')[0] || 'us-east-1'
        createBucket(buckets, name, location, req.caller?.account)
        return { status: 200, headers: { location: `/${name}` } }
      }
      case 'HeadBucket': {
        const b = requireBucket(req, name)
        return { status: 200, headers: { 'x-amz-bucket-region': b.region } }
      }
      case 'DeleteBucket': {
        const b = requireBucket(req, name)
        if (b.objects.size) throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, 'Sender', { BucketName: name })
        buckets.delete(name)
        return { status: 204 }
      }
      case 'ListObjectsV2': {
        const b = requireBucket(req, name)
        const prefix = req.query.get('prefix') ?? ''
        const max = Math.min(Number(req.query.get('max-keys') ?? 1000) || 1000, 1000)
        const after = req.query.get('continuation-token') ? Buffer.from(req.query.get('continuation-token')!, 'base64').toString('utf8') : (req.query.get('start-after') ?? '')
        const keys = [ ...b.objects.keys() ].filter(k => k.startsWith(prefix) && k > after).sort()
        const pageKeys = keys.slice(0, max)
        const truncated = keys.length > max
        return xmlOk(x('ListBucketResult', { xmlns: S3_XMLNS },
          t('Name', name), t('Prefix', prefix), t('KeyCount', pageKeys.length), t('MaxKeys', max), t('IsTruncated', truncated),
          ...pageKeys.map(k => {
            const o = b.objects.get(k)!
            return x('Contents', t('Key', k), t('LastModified', new Date(o.lastModified).toISOString()), t('ETag', o.etag), t('Size', o.body.length), t('StorageClass', 'STANDARD'))
          }),
          truncated ? t('NextContinuationToken', Buffer.from(pageKeys[pageKeys.length - 1]!).toString('base64')) : ''))
      }
      case 'DeleteObjects': {
        const b = requireBucket(req, name)
        const doc = req.body.toString('utf8')
        const quiet = xmlValues(doc, 'Quiet')[0] === 'true'
        const keys = xmlValues(doc, 'Object').map(o => xmlValues(`<r>${o}</r>`, 'Key')[0] ?? '')
        if (keys.length > 1000) throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400)
        for (const k of keys) b.objects.delete(k)
        return xmlOk(x('DeleteResult', { xmlns: S3_XMLNS }, ...(quiet ? [] : keys.map(k => x('Deleted', t('Key', k))))))
      }
      case 'PutObject': {
        const b = requireBucket(req, name)
        const md5 = createHash('md5').update(req.body).digest('hex')
        const metadata: Record<string, string> = {}
        for (const [ h, v ] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-')) metadata[h.slice(11)] = String(v)
        const h = (n: string): string | undefined => req.headers[n] === undefined ? undefined : String(req.headers[n])
        b.objects.set(key, {
          body: req.body,
          etag: `"${md5}"`,
          contentType: h('content-type'),
          cacheControl: h('cache-control'),
          contentEncoding: h('content-encoding')?.replace(/(^|,\s*)aws-chunked/, '').replace(/^,\s*/, '') || undefined,
          lastModified: Date.now(),
          metadata,
        })
        return { status: 200, headers: { etag: `"${md5}"` } }
      }
      case 'HeadObject':
      case 'GetObject': {
        const b = requireBucket(req, name)
        const o = b.objects.get(key)
        if (!o) {
          // HEAD errors carry no body: clients just see a bare 404
          throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, 'Sender', { Key: key })
        }
        return { status: 200, headers: objectHeaders(o), body: act === 'GetObject' ? o.body : undefined }
      }
      case 'DeleteObject': {
        requireBucket(req, name).objects.delete(key)
        return { status: 204 }
      }
      default:
        throw notImplemented('s3', act)
    }
  },
}
