#!/usr/bin/env bash
# Publishes the browser chat to the deployed stack: builds front/dist, writes config.json from the
# stack's outputs, uploads to the FrontendBucketName bucket and invalidates the CloudFront paths that
# are not content-hashed.
#
#   bash front/deploy.sh                 # stack name from samconfig.toml
#   STACK_NAME=chat-dev bash front/deploy.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

command -v aws >/dev/null || { echo "deploy.sh: the AWS CLI is required (apt-get install awscli)" >&2; exit 1; }

# First `key = "value"` in samconfig.toml ([default.global.parameters] comes before the rest).
samconfig_value() {
  [[ -f samconfig.toml ]] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\(.*\\)\"[[:space:]]*$/\\1/p" samconfig.toml | head -n 1
}

stack_name="${STACK_NAME:-$(samconfig_value stack_name)}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(samconfig_value region)}}"
if [[ -z "$stack_name" ]]; then
  echo "deploy.sh: set STACK_NAME or stack_name in samconfig.toml" >&2
  exit 1
fi
region_args=()
if [[ -n "$region" ]]; then region_args=(--region "$region"); fi

echo "Building the front end..."
npx tsx front/build.ts

echo "Reading outputs of stack ${stack_name}${region:+ in $region}..."
stack_json="$(aws cloudformation describe-stacks --stack-name "$stack_name" "${region_args[@]}" --output json)"

# Writes dist/config.json and prints "<bucket> <distribution id> <url>". Node is already here for the build.
targets="$(
  STACK_JSON="$stack_json" node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const stack = JSON.parse(process.env.STACK_JSON).Stacks[0];
    const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const parameters = Object.fromEntries((stack.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    const need = (key) => {
      if (!outputs[key]) {
        console.error(`deploy.sh: stack output ${key} is missing`);
        process.exit(1);
      }
      return outputs[key];
    };
    const authMode = parameters.AuthMode ?? "cognito";
    const config = { webSocketUrl: need("WebSocketUrl"), restUrl: need("RestApiUrl"), authMode };
    if (authMode === "cognito") {
      const userPoolId = need("UserPoolId");
      // A pool id starts with its region: us-east-1_AbCdEf.
      config.cognito = { userPoolId, clientId: need("UserPoolClientId"), region: userPoolId.split("_")[0] };
    }
    writeFileSync("front/dist/config.json", `${JSON.stringify(config, null, 2)}\n`);
    console.log(need("FrontendBucketName"), need("FrontendDistributionId"), outputs.FrontendUrl ?? "");
  '
)"
read -r bucket distribution_id frontend_url <<<"$targets"

echo "Uploading to s3://${bucket}..."
# Hashed bundles first (cacheable forever), then config.json and index.html (always revalidated), so
# no index.html is ever live before the files it names. Old bundles stay for pages already open.
aws s3 sync front/dist "s3://${bucket}/" "${region_args[@]}" \
  --exclude index.html --exclude config.json --exclude build-manifest.json \
  --cache-control "public, max-age=31536000, immutable"
aws s3 cp front/dist/config.json "s3://${bucket}/config.json" "${region_args[@]}" \
  --cache-control "no-cache" --content-type "application/json; charset=utf-8"
aws s3 cp front/dist/index.html "s3://${bucket}/index.html" "${region_args[@]}" \
  --cache-control "no-cache" --content-type "text/html; charset=utf-8"

echo "Invalidating CloudFront distribution ${distribution_id}..."
invalidation_id="$(aws cloudfront create-invalidation --distribution-id "$distribution_id" \
  --paths "/" "/index.html" "/config.json" --query 'Invalidation.Id' --output text)"

echo "Done (invalidation ${invalidation_id}).${frontend_url:+ Open ${frontend_url}}"
