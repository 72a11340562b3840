@app
oidc-example

@http
get /

@events
deployed

@aws
region us-west-2
runtime nodejs22.x

@plugins
arc-plugin-gitlab-oidc

@gitlab-oidc
production-role arn:aws:iam::111111111111:role/oidc-example-production-deploy
staging-role arn:aws:iam::222222222222:role/oidc-example-staging-deploy
production-permissions-boundary arn:aws:iam::111111111111:policy/oidc-example-production-boundary
staging-permissions-boundary arn:aws:iam::222222222222:policy/oidc-example-staging-boundary
