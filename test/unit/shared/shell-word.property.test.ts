/**
 * Property: every command the plugin prints for a user to paste (the STS fixes' `aws iam …` and
 * `npx arc-gitlab-oidc trust-policy …` lines, setup's `aws cloudformation …` lines), with any value
 * a branch's `.gitlab-ci.yml` or a manifest can choose (audience, issuer, project, ref, role, app
 * name, template path), gives a POSIX shell exactly the intended arguments: /bin/sh parses the
 * printed line (`printf '%s\0' <line>` prints the words it sees), so `;`, `$(…)`, backquotes,
 * globs, quotes and spaces stay inside their value. Values with control characters cannot be
 * pasted faithfully (every printed line escapes them); STS and GitLab refuse those anyway.
 * Fixed seed, bounded runs.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { stripVTControlCharacters as plain } from 'node:util'
import fc from 'fast-check'
import { shellWord } from '../../../src/shared/shell-word.ts'
import { findExplanation, providerArnFor } from '../../../src/report/explanations.ts'
import { formatProblem } from '../../../src/report/format.ts'
import { renderSetup, type SetupPlan } from '../../../src/cli/setup.ts'
import { redact } from '../../../src/shared/redact.ts'
import type { ExchangeContext } from '../../../src/shared/sts.ts'
import { params } from '../../support/property.ts'

/** The words /bin/sh makes of `line` (run as printf's arguments: nothing else is executed, unless the line escapes its words). */
function shellWords (line: string): string[] {
  const run = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8', timeout: 5000 })
  assert.equal(run.status, 0, `${line}\n${run.stderr}`)
  return run.stdout.split('\0').slice(0, -1)
}

const HOSTILE = [...' ;&|<>()$`\'"\\*?[]{}~#!=%,:@+-./\t', 'a', 'Z', '0', 'é', '中', '\u00a0']
const printable = (s: string) => !/\p{Cc}|[\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/u.test(s) && redact(s) === s
const value = fc.oneof(
  fc.string({ unit: fc.constantFrom(...HOSTILE), minLength: 1, maxLength: 16 }),
  fc.constantFrom('x;id', '$(id)', '`id`', "it's", 'a b', '*', '-n', '~root', '#c', 'https://gitlab.com', "'", ''),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
).filter(s => printable(s) && !s.includes('\t'))

describe('shellWord', () => {
  it('gives a POSIX shell exactly the value, one word', () => {
    fc.assert(fc.property(value, v => {
      assert.deepEqual(shellWords(`${shellWord(v)} end`), [v, 'end'])
    }), params(150))
  })
})

const claims = (project: string, ref: string, aud: string, iss: string) => ({
  iss, aud, project_path: project, ref, ref_type: 'branch', sub: `project_path:${project}:ref_type:branch:ref:${ref}`,
})

function context (project: string, ref: string, aud: string, iss: string, roleName: string): ExchangeContext {
  return {
    roleArn: `arn:aws:iam::111111111111:role/${roleName}`, partition: 'aws', account: '111111111111', roleName,
    issuer: iss, issuerHost: iss.replace(/^https?:\/\//, '').replace(/\/$/, ''), audiences: [aud], claims: claims(project, ref, aud, iss),
    tokenVariable: 'GITLAB_OIDC_TOKEN', origin: 'gitlab', stage: 'production', sessionName: 'gitlab-1-2-3', durationSeconds: 7200,
    durationSource: 'default 3600', region: 'us-east-1', roleSource: 'CI variable ARC_ROLE_ARN', tokenSource: 'CI variable GITLAB_OIDC_TOKEN',
  }
}

/** The printed message of an STS refusal, as the deploy shows it (colours removed). */
function printed (code: string, message: string, s: ExchangeContext): string[] {
  const entry = findExplanation(code, message)
  assert.ok(entry)
  const { title, fix } = entry.explain(s)
  return plain(formatProblem({ title, fix })).split('\n')
}

/** The command on a printed line, from where it starts. */
function command (lines: string[], start: string): string {
  const line = lines.find(l => l.includes(start))
  assert.ok(line, `a line with ${start}:\n${lines.join('\n')}`)
  return line.slice(line.indexOf(start))
}

describe('every printed command gives the shell exactly its intended arguments', () => {
  it('the STS fixes: create-open-id-connect-provider, add-client-id, update-role, trust-policy', () => {
    fc.assert(fc.property(value, value, value, value, value, (project, ref, aud, host, roleName) => {
      const iss = `https://${host}`
      const s = context(project, ref, aud, iss, roleName)
      const noProvider = printed('InvalidIdentityToken', 'No OpenIDConnect provider found in your account for x', s)
      assert.deepEqual(shellWords(command(noProvider, 'aws iam create-open-id-connect-provider')),
        ['aws', 'iam', 'create-open-id-connect-provider', '--url', iss, '--client-id-list', aud])
      const audience = printed('InvalidIdentityToken', 'Incorrect token audience', s)
      assert.deepEqual(shellWords(command(audience, 'aws iam add-client-id-to-open-id-connect-provider')),
        ['aws', 'iam', 'add-client-id-to-open-id-connect-provider', '--open-id-connect-provider-arn', providerArnFor(s), '--client-id', aud])
      const tooLong = printed('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', s)
      assert.deepEqual(shellWords(command(tooLong, 'aws iam update-role')),
        ['aws', 'iam', 'update-role', '--role-name', roleName, '--max-session-duration', '7200'])
      const denied = printed('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', s)
      const words = shellWords(command(denied, 'npx arc-gitlab-oidc trust-policy'))
      assert.deepEqual(words.slice(0, 5), ['npx', 'arc-gitlab-oidc', 'trust-policy', '--project', project])
      assert.deepEqual(words.slice(words.indexOf('--branch'), words.indexOf('--branch') + 2), ['--branch', ref])
      assert.equal(words[words.indexOf('--role-arn') + 1], s.roleArn)
      assert.equal(words[words.indexOf('--issuer') + 1], iss)
      if (aud && aud !== iss) assert.equal(words[words.indexOf('--audience') + 1], aud)
    }), params(40))
  })

  it('setup: aws cloudformation deploy and describe-stacks', () => {
    fc.assert(fc.property(value, value, value, (app, template, url) => {
      const plan: SetupPlan = {
        manifestFile: 'app.arc', appName: app, parameters: [['AppName', app], ['GitLabUrl', url]], stackName: `${app}-gitlab-oidc`,
        templateFile: template, accounts: {}, roles: {}, gitlabUrl: 'https://gitlab.com', projectPath: 'acme/shop', defaultBranch: 'main', aud: undefined,
      }
      const text = renderSetup(plan)
      const deploy = text.slice(text.indexOf('aws cloudformation deploy')).split('\n').slice(0, 5).join('\n').replace(/\\\n/g, ' ')
      assert.deepEqual(shellWords(deploy), [
        'aws', 'cloudformation', 'deploy', '--stack-name', plan.stackName, '--template-file', template,
        '--capabilities', 'CAPABILITY_NAMED_IAM', '--parameter-overrides', `AppName=${app}`, `GitLabUrl=${url}`, 'Stages=staging',
      ])
      assert.deepEqual(shellWords(command(text.split('\n'), 'aws cloudformation describe-stacks')).slice(0, 5),
        ['aws', 'cloudformation', 'describe-stacks', '--stack-name', plan.stackName])
    }), params(40))
  })
})
