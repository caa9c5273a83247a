// The AWS SDK for Go v2 (Debian's golang-github-aws-aws-sdk-go-v2-dev)
// with its default credential chain: prints the credential source, the
// region and the ARN GetCallerIdentity returns. The endpoint comes from
// MFAENV_TEST_ENDPOINT and must be on loopback (this SDK version ignores
// AWS_ENDPOINT_URL). Built offline by tests/support/go_sdk.rs.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	endpoint := os.Getenv("MFAENV_TEST_ENDPOINT")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		fmt.Fprintf(os.Stderr, "refusing an endpoint off loopback: %q\n", endpoint)
		os.Exit(2)
	}
	resolver := aws.EndpointResolverWithOptionsFunc(func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
		if service == sts.ServiceID {
			return aws.Endpoint{URL: endpoint, SigningRegion: region}, nil
		}
		return aws.Endpoint{}, &aws.EndpointNotFoundError{}
	})
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEndpointResolverWithOptions(resolver))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	said, _ := json.Marshal(map[string]string{
		"source": creds.Source,
		"region": cfg.Region,
		"arn":    aws.ToString(out.Arn),
	})
	fmt.Println(string(said))
}
