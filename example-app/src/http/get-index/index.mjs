export async function handler (req) {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf8' },
    body: `<h1>Deployed from GitLab with OIDC</h1><p>${process.env.ARC_ENV || 'unknown'} stage</p>`,
  }
}
