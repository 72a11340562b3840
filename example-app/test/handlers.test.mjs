import { test } from 'node:test'
import assert from 'node:assert/strict'
import { handler as getIndex } from '../src/http/get-index/index.mjs'
import { handler as deployed } from '../src/events/deployed/index.mjs'

test('GET / answers with the page', async () => {
  const res = await getIndex({ rawPath: '/' })
  assert.equal(res.statusCode, 200)
  assert.match(res.headers['content-type'], /text\/html/)
  assert.match(res.body, /Deployed from GitLab with OIDC/)
})

test('the deployed event handler reads SNS records', async () => {
  await assert.doesNotReject(deployed({ Records: [{ Sns: { Message: '{"sha":"abc"}' } }] }))
})
