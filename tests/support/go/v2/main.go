// The AWS SDK for Go v2 reading profile argv[1] (none: the environment) as
// it reads any profile: prints the region it resolved, the ARN that
// GetCallerIdentity returns and the credential provider used, as JSON. This SDK version ignores
// AWS_ENDPOINT_URL*: the endpoint comes from MFAENV_TEST_ENDPOINT and must be
// on loopback. Built offline from Debian's golang-github-aws-aws-sdk-go-v2-dev
// (GO111MODULE=off GOPATH=/usr/share/gocode) by tests/support/sdks.rs.
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	endpoint := os.Getenv("MFAENV_TEST_ENDPOINT")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		fail(fmt.Errorf("refusing an endpoint off loopback: %q", endpoint))
	}
	ctx := context.Background()
	var opts []func(*config.LoadOptions) error
	if len(os.Args) > 1 {
		opts = append(opts, config.WithSharedConfigProfile(os.Args[1]))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fail(err)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.EndpointResolver = sts.EndpointResolverFromURL(endpoint)
	})
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fail(err)
	}
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	said := map[string]string{"region": cfg.Region, "arn": aws.ToString(out.Arn), "source": creds.Source}
	if err := json.NewEncoder(os.Stdout).Encode(said); err != nil {
		fail(err)
	}
}
