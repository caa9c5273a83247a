// The AWS SDK for JavaScript v3 reading profile argv[2] as it reads any
// profile (config and credentials files): prints the region it resolved and
// the ARN GetCallerIdentity returns. The endpoint comes from
// MFAENV_TEST_ENDPOINT and must be on loopback. Needs NODE_PATH to hold the
// SDK (scripts/js-sdk/install).
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

async function main() {
  const endpoint = process.env.MFAENV_TEST_ENDPOINT || "";
  const host = new URL(endpoint).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
    throw new Error(`refusing an endpoint off loopback: ${endpoint}`);
  }
  const client = new STSClient({ profile: process.argv[2], endpoint });
  const region = await client.config.region();
  const out = await client.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ region, arn: out.Arn }));
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
