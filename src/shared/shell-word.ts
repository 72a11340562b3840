/**
 * The one quoting rule for every command the plugin prints for a user to paste (the fixes'
 * `aws iam …` lines, `npx arc-gitlab-oidc trust-policy …`, setup's `aws cloudformation …`): each
 * value is one POSIX shell word. Bare when it holds only characters no shell treats specially,
 * otherwise in single quotes, inside which a POSIX shell (sh, bash, zsh, dash) interprets nothing;
 * a single quote itself is closed, escaped and reopened (`'\''`). So an `aud`, a branch or a
 * project path chosen in a branch's `.gitlab-ci.yml` can never become the maintainer's shell.
 *
 * Control characters cannot be pasted faithfully (every printed line escapes them, redact.ts's
 * `oneLine`), so a value holding one shows escaped and inside quotes; STS and GitLab refuse such
 * values anyway.
 */

/** Characters that are literal wherever they stand in a word (no glob, expansion, tilde or redirection). */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

/** `value` as one POSIX shell word: bare when safe, else single-quoted. */
export function shellWord (value: string): string {
  return SAFE.test(value) ? value : `'${value.replace(/'/g, '\'\\\'\'')}'`
}
