/**
 * src/plugin/sts-answer.ts: what is not STS's answer, and what a success must be before it is
 * trusted. Property tests: well-formed XML trees pass the XML check and every cut of them fails
 * it; pages, redirects and foreign XML are named, STS's own answers are not; a success checks out
 * exactly when it is of the role, account, partition and session asked for, expires within the
 * duration asked for and has keys of AWS's shape. Fixed seed, bounded runs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { answerProblem, notStsAnswer, wellFormedXml, type Answer } from '../../../src/plugin/sts-answer.ts'
import { params } from '../../support/property.ts'

const name = fc.constantFrom('Arn', 'Credentials', 'AccessKeyId', 'a', 'B.c', 'x:y')
const leaf = fc.string({ unit: fc.constantFrom('a', ' ', '1', '&amp;', '&#38;', '/', '=', 'é'), maxLength: 6 })
const tree: fc.Arbitrary<string> = fc.letrec<{ node: string }>(tie => ({
  node: fc.oneof({ depthSize: 'small' },
    fc.tuple(name, leaf).map(([n, t]) => `<${n}>${t}</${n}>`),
    name.map(n => `<${n}/>`),
    fc.tuple(name, fc.array(tie('node'), { maxLength: 3 })).map(([n, kids]) => `<${n} xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${kids.join('')}</${n}>`)),
})).node

test('well-formed XML passes; every cut of it fails', () => {
  fc.assert(fc.property(tree, fc.nat(), (xml, n) => {
    assert.equal(wellFormedXml(`<?xml version="1.0"?>\n${xml}`), true, xml)
    const at = 1 + (n % (xml.length - 1))
    assert.equal(wellFormedXml(xml.slice(0, at)), false, xml.slice(0, at))
  }), params(400))
  for (const bad of ['<a><b></a></b>', '<a>&bogus;</a>', '<a>1 < 2</a>', '<a/><b/>', 'text<a/>', '<a>']) assert.equal(wellFormedXml(bad), false, bad)
})

const STS = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
test('answers that are not STS\'s are named, with whether another attempt may pass; STS\'s own pass', () => {
  assert.equal(notStsAnswer(200, 'text/xml', `<?xml version="1.0"?><AssumeRoleWithWebIdentityResponse ${STS}><R/></AssumeRoleWithWebIdentityResponse>`), undefined)
  assert.equal(notStsAnswer(403, 'text/xml', `<ErrorResponse ${STS}><Error><Code>AccessDenied</Code></Error></ErrorResponse>\n`), undefined)
  assert.deepEqual(notStsAnswer(302, 'text/html', '<html/>', 'https://portal.example/login?x'), { what: 'a redirect (HTTP 302 to portal.example)', transient: false })
  assert.deepEqual(notStsAnswer(200, 'application/json', '{}'), { what: 'an answer that is not XML (HTTP 200, application/json)', transient: false })
  assert.deepEqual(notStsAnswer(503, undefined, ''), { what: 'an empty answer (HTTP 503)', transient: true })
  assert.match(notStsAnswer(400, 'text/xml', '<Error><Code>x</Code></Error>')!.what, /^XML that is not STS's \(<Error> where STS answers <ErrorResponse>/)
  assert.match(notStsAnswer(200, 'text/xml', `<AssumeRoleWithWebIdentityResponse ${STS}><A>`)!.what, /^a cut-off answer/)
  fc.assert(fc.property(fc.integer({ min: 200, max: 599 }), fc.string(), (status, text) => {
    const page = notStsAnswer(status, 'text/html; charset=utf-8', `<!DOCTYPE html><html><body>${text}</body></html>`)
    assert.ok(page)
    assert.equal(page.what, status >= 300 && status < 400 ? `a redirect (HTTP ${status})` : `an HTML page (HTTP ${status})`)
    assert.equal(page.transient, status >= 500)
  }), params(200))
})

const asked = { roleArn: 'arn:aws:iam::111111111111:role/deploy/shop-staging', sessionName: 'gitlab-1-2-3', durationSeconds: 3600 }
const NOW = new Date('2026-12-03T08:00:00Z')
const good = (): Answer => ({
  accessKeyId: 'ASIAQWERTYUIOPASDFGH', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjE+abc/def==',
  expiration: new Date(NOW.getTime() + 3600_000), assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/shop-staging/gitlab-1-2-3',
})

test('a success checks out exactly when it is the session asked for, expiring within the duration, with keys of AWS\'s shape', () => {
  assert.equal(answerProblem(asked, good(), NOW), undefined)
  const mutation = fc.oneof(
    fc.constantFrom<[keyof Answer, unknown]>(
      ['assumedRoleArn', ''], ['assumedRoleArn', 'arn:aws:sts::999999999999:assumed-role/shop-staging/gitlab-1-2-3'],
      ['assumedRoleArn', 'arn:aws-cn:sts::111111111111:assumed-role/shop-staging/gitlab-1-2-3'],
      ['assumedRoleArn', 'arn:aws:sts::111111111111:assumed-role/admin/gitlab-1-2-3'], ['assumedRoleArn', 'arn:aws:sts::111111111111:assumed-role/shop-staging/other'],
      ['assumedRoleArn', 'arn:aws:sts::111111111111:assumed-role/shop-staging/gitlab-1-2-3\u001b[2K'], ['assumedRoleArn', 'arn:aws:iam::111111111111:role/deploy/shop-staging'],
      ['expiration', new Date(0)], ['expiration', new Date(NaN)], ['expiration', new Date(NOW.getTime() + 86_400_000)],
      ['accessKeyId', 'AKIAQWERTYUIOPASDFGH'], ['accessKeyId', 'ASIAQWERTYUIOPASDFGH\n'], ['secretAccessKey', 'short'], ['sessionToken', 'abc def ghi jkl mno'],
    ),
    fc.string().map((s): [keyof Answer, unknown] => ['accessKeyId', s]),
    fc.string().map((s): [keyof Answer, unknown] => ['assumedRoleArn', s]),
  )
  fc.assert(fc.property(mutation, ([field, value]) => {
    const answer = { ...good(), [field]: value } as Answer
    fc.pre(JSON.stringify(answer[field]) !== JSON.stringify(good()[field]))
    const problem = answerProblem(asked, answer, NOW)
    assert.ok(problem, `${field} = ${JSON.stringify(value)} is refused`)
    assert.ok(!problem.includes(good().secretAccessKey) && !problem.includes(good().sessionToken), 'never names a key')
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(problem, /[\u0000-\u001f]/)
  }), params(300))
  fc.assert(fc.property(fc.integer({ min: 1, max: 3600 + 300 }), seconds => {
    assert.equal(answerProblem(asked, { ...good(), expiration: new Date(NOW.getTime() + seconds * 1000) }, NOW), undefined)
  }), params(100))
})
