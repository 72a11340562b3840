// The e2e harness's helpers: the manifest without the plugin, and the clean environment arc runs in.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { cleanEnv, NODE22, stripPragmas } from '../../support/harness.ts'

describe('e2e harness helpers', () => {
  it('strips the plugin pragmas from a manifest', () => {
    const arc = '@app\nx\n\n@http\nget /\n\n@plugins\narc-plugin-gitlab-oidc\n\n@gitlab-oidc\nproduction-role arn:aws:iam::1:role/r\n\n@aws\nregion us-west-2\n'
    assert.equal(stripPragmas(arc), '@app\nx\n\n@http\nget /\n\n@aws\nregion us-west-2\n')
  })

  it('builds a clean environment for arc: nothing inherited, no AWS config, no network helpers', () => {
    const saved = process.env.AWS_ACCESS_KEY_ID
    process.env.AWS_ACCESS_KEY_ID = 'AKIALEAKED'
    try {
      const env = cleanEnv(NODE22, { endpoint: 'http://127.0.0.1:1', env: { CI: 'true', LANG: undefined } })
      assert.equal(env.AWS_ACCESS_KEY_ID, undefined)
      assert.equal(env.AWS_ENDPOINT_URL, 'http://127.0.0.1:1')
      assert.equal(env.AWS_EC2_METADATA_DISABLED, 'true')
      assert.equal(env.NO_UPDATE_NOTIFIER, '1')
      assert.equal(env.CI, 'true')
      assert.equal(env.LANG, undefined)
      assert.ok(env.AWS_CONFIG_FILE!.startsWith(env.HOME!))
      assert.ok(!Object.keys(env).some(k => /^(GITLAB|CI_)|PROXY/i.test(k)))
    }
    finally {
      if (saved === undefined) delete process.env.AWS_ACCESS_KEY_ID
      else process.env.AWS_ACCESS_KEY_ID = saved
    }
  })
})
