/**
 * src/iam/app-parameters.ts: the app-settings parameters from Architect's Inventory, as setup
 * prints them and the template check assumes them: each stage its own static bucket, the layers
 * of @aws and of each function's config.arc once each, @cdn, and iam-parameters winning.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readApp } from '../../../src/cli/app-inventory.ts'
import { appFactsOf, appParameters } from '../../../src/iam/app-parameters.ts'

it('from a real Inventory: @static per stage, @aws bucket, @aws and config.arc layers, policies, @cdn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-parameters-'))
  try {
    const aws = 'arn:aws:lambda:us-west-2:111111111111:layer:shared:1'
    const own = 'arn:aws:lambda:us-west-2:111111111111:layer:pdf:2'
    writeFileSync(join(dir, 'app.arc'), `@app\nshop\n@http\nget /\nget /pdf\n@static\nstaging shop-stage\nproduction shop-prod\n@cdn\n@aws\nbucket shop.deploy\nlayers ${aws}\n`)
    mkdirSync(join(dir, 'src/http/get-pdf'), { recursive: true })
    writeFileSync(join(dir, 'src/http/get-pdf/config.arc'), `@aws\nlayers ${own}\npolicies AmazonSESFullAccess\n`)
    const read = await readApp(dir)
    assert.ok('inv' in read)
    const facts = appFactsOf(read.inv)
    assert.deepEqual(facts.layers, [ aws, own ])
    assert.deepEqual(facts.policies.map(p => p.policies), [ [ 'AmazonSESFullAccess' ] ])
    assert.deepEqual(appParameters(facts, 'staging'), {
      StaticBucketArns: 'arn:*:s3:::shop-stage,arn:*:s3:::shop-stage/*', DeployBucket: 'shop.deploy', LayerArns: `${aws},${own}`, AllowCloudFrontWrites: 'true',
    })
    assert.equal(appParameters(facts, 'production').StaticBucketArns, 'arn:*:s3:::shop-prod,arn:*:s3:::shop-prod/*')
    assert.equal(appParameters(facts, 'production', [ 'LayerArns=*', 'DeployServices=events' ]).LayerArns, '*', 'iam-parameters win')
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})

it('an app without settings has none, and a shape Inventory never gives is no setting', () => {
  assert.deepEqual(appParameters(appFactsOf({ aws: {}, static: null }), 'staging'), {})
  assert.deepEqual(appParameters(appFactsOf(undefined), 'production'), {})
  assert.deepEqual(appParameters(appFactsOf({ aws: { layers: [ 42, null ], bucket: 7 } }), 'staging'), {})
})
