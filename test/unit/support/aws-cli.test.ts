/**
 * test/support/aws-cli.ts: the shell words of setup's printed lines, and `aws cloudformation
 * deploy` / `describe-stacks` as the AWS CLI v2 runs them, against the AWS stand-in.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAws, type AwsStandIn, type Credentials } from '../../support/aws.ts'
import { TEMPLATE_BODY_LIMIT, awsCommands, runAwsCli, shellWords, type AwsCliContext } from '../../support/aws-cli.ts'

describe('shellWords', () => {
  it('reads quotes, escapes and continuation lines as a POSIX shell does', () => {
    assert.deepEqual(shellWords(`aws x \\\n  --a 'b c' "d \\"e\\" \\$f" g\\ h 'it'\\''s' # comment`),
      [ 'aws', 'x', '--a', 'b c', 'd "e" $f', 'g h', "it's" ])
    assert.deepEqual(shellWords(`--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]'`), [ '--query', 'Stacks[0].Outputs[].[OutputKey,OutputValue]' ])
  })
  it('refuses what needs a shell rather than half-reading it', () => {
    for (const line of [ 'a $HOME', 'a `b`', 'a "$b"', 'a; b', 'a | b', "a 'b", 'a "b', 'a *', 'a \\' ]) {
      assert.throws(() => shellWords(line), /shell words/, line)
    }
  })
  it('finds the aws commands of a printed text, continuation lines joined', () => {
    const text = '# comment\naws cloudformation deploy \\\n  --stack-name s \\\n  --parameter-overrides A=1 B=\'x y\'\n\n@plugins\naws sts get-caller-identity\n'
    assert.deepEqual(awsCommands(text), [
      [ 'aws', 'cloudformation', 'deploy', '--stack-name', 's', '--parameter-overrides', 'A=1', 'B=x y' ],
      [ 'aws', 'sts', 'get-caller-identity' ],
    ])
  })
})

describe('runAwsCli against the stand-in', () => {
  let aws: AwsStandIn
  let admin: Credentials
  let dir: string
  let ctx: AwsCliContext
  const template = (extra = '') => [
    'Parameters:', '  Name: { Type: String }', '  Other: { Type: String, Default: d }',
    'Resources:', '  Boundary:', '    Type: AWS::IAM::ManagedPolicy', '    Properties:', '      ManagedPolicyName: !Sub ${Name}-boundary', '      Path: /',
    '      PolicyDocument: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: "s3:GetObject", Resource: "*" } ] }',
    'Outputs:', '  BoundaryArn: { Value: !Ref Boundary }', extra, '',
  ].join('\n')
  before(async () => {
    aws = await startAws()
    admin = aws.addDeveloperKey({ userName: 'admin' })
    dir = mkdtempSync(join(tmpdir(), 'aws-cli-'))
    writeFileSync(join(dir, 't.yaml'), template())
    ctx = { endpoint: aws.endpoint, credentials: admin, region: 'us-west-2', cwd: dir }
  })
  after(async () => {
    await aws.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const deploy = (...extra: string[]) => runAwsCli([ 'aws', 'cloudformation', 'deploy', '--stack-name', 'iam', '--template-file', 't.yaml', '--capabilities', 'CAPABILITY_NAMED_IAM', ...extra ], ctx)

  it('creates with a change set, as the AWS CLI does, and the stack creates the managed policy', async () => {
    aws.clearCalls()
    const r = await deploy('--parameter-overrides', 'Name=shop', 'Unknown=ignored')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Successfully created\/updated stack - iam/)
    assert.deepEqual(aws.callNames(), [ 'DescribeStacks', 'CreateChangeSet', 'DescribeChangeSet', 'ExecuteChangeSet', 'DescribeStacks' ].map(a => `cloudformation:${a}`))
    assert.ok(aws.state.accounts.get(aws.accountId)!.policies.has(`arn:aws:iam::${aws.accountId}:policy/shop-boundary`))
    const out = await runAwsCli(shellWords(`aws cloudformation describe-stacks --stack-name iam --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text`), ctx)
    assert.equal(out.stdout, `BoundaryArn\tarn:aws:iam::${aws.accountId}:policy/shop-boundary\n`)
  })
  it('the same again: no changes to deploy (exit 0), or 255 with --fail-on-empty-changeset', async () => {
    const r = await deploy('--parameter-overrides', 'Name=shop')
    assert.equal(r.code, 0)
    assert.match(r.stdout, /No changes to deploy\. Stack iam is up to date/)
    assert.equal((await deploy('--parameter-overrides', 'Name=shop', '--fail-on-empty-changeset')).code, 255)
  })
  it('an update keeps parameters not given (UsePreviousValue)', async () => {
    const r = await deploy('--parameter-overrides', 'Other=e')
    assert.equal(r.code, 0, r.stderr)
    const params = aws.stack('iam')!.Parameters
    assert.deepEqual(params, [ { ParameterKey: 'Name', ParameterValue: 'shop' }, { ParameterKey: 'Other', ParameterValue: 'e' } ])
  })
  it('refuses a template over 51,200 bytes before any call', async () => {
    writeFileSync(join(dir, 'big.yaml'), template(`# ${'x'.repeat(TEMPLATE_BODY_LIMIT)}`))
    aws.clearCalls()
    const r = await runAwsCli([ 'aws', 'cloudformation', 'deploy', '--stack-name', 'big', '--template-file', 'big.yaml' ], ctx)
    assert.equal(r.code, 255)
    assert.match(r.stderr, /Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket/)
    assert.deepEqual(aws.calls, [])
  })
  it('a service error is exit 254 with the CLI\'s wording; a usage error 252', async () => {
    const r = await deploy('--parameter-overrides', 'Name=Bad Name')
    assert.equal(r.code, 0, 'the template has no pattern: accepted')
    const noCaps = await runAwsCli([ 'aws', 'cloudformation', 'deploy', '--stack-name', 'other', '--template-file', 't.yaml', '--parameter-overrides', 'Name=x' ], ctx)
    assert.equal(noCaps.code, 254)
    assert.match(noCaps.stderr, /An error occurred \(InsufficientCapabilitiesException\) when calling the CreateChangeSet operation: Requires capabilities : \[CAPABILITY_NAMED_IAM\]/)
    assert.equal((await runAwsCli([ 'aws', 'cloudformation', 'deploy', '--stack-name', 'x' ], ctx)).code, 252)
    assert.equal((await runAwsCli([ 'aws', 's3', 'ls' ], ctx)).code, 252)
  })
  it('signed with a key the template\'s resources are denied to: the stack rolls back, the CLI says deploy failed', async () => {
    const reader = aws.addDeveloperKey({ userName: 'reader', permissions: [ 'cloudformation:*' ] })
    const r = await runAwsCli([ 'aws', 'cloudformation', 'deploy', '--stack-name', 'denied', '--template-file', 't.yaml', '--capabilities', 'CAPABILITY_NAMED_IAM',
      '--parameter-overrides', 'Name=denied' ], { ...ctx, credentials: reader })
    assert.equal(r.code, 255)
    assert.match(r.stderr, /Failed to create\/update the stack/)
    const stack = aws.stack('denied')!
    assert.equal(stack.StackStatus, 'ROLLBACK_COMPLETE')
    assert.match(stack.events.find(e => e.ResourceStatus === 'CREATE_FAILED')?.ResourceStatusReason ?? '', /not authorized to perform: iam:CreatePolicy on resource: arn:aws:iam::\d+:policy\/denied-boundary/)
  })
})
