/** The CI variables a GitLab job's ID token is looked for in (the README's id_tokens: name, and GitLab's legacy one). */
export const DEFAULT_TOKEN_VARIABLE = 'GITLAB_OIDC_TOKEN'
export const LEGACY_TOKEN_VARIABLE = 'CI_JOB_JWT_V2'
