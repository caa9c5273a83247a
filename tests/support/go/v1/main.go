// The AWS SDK for Go v1 (the one Terraform's AWS provider long used) reading
// profile argv[1] (none: the environment) as it reads any profile, with the
// shared config enabled: prints the region it resolved, the ARN that
// GetCallerIdentity returns and the credential provider used, as JSON. The SDK ignores AWS_ENDPOINT_URL*:
// the endpoint comes from MFAENV_TEST_ENDPOINT and must be on loopback.
// Built offline from Debian's golang-github-aws-aws-sdk-go-dev
// (GO111MODULE=off GOPATH=/usr/share/gocode) by tests/support/sdks.rs.
package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/sts"
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
	opts := session.Options{
		SharedConfigState: session.SharedConfigEnable,
		Config:            aws.Config{Endpoint: aws.String(endpoint)},
	}
	if len(os.Args) > 1 {
		opts.Profile = os.Args[1]
	}
	sess, err := session.NewSessionWithOptions(opts)
	if err != nil {
		fail(err)
	}
	creds, err := sess.Config.Credentials.Get()
	if err != nil {
		fail(err)
	}
	out, err := sts.New(sess).GetCallerIdentity(&sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	said := map[string]string{"region": aws.StringValue(sess.Config.Region), "arn": aws.StringValue(out.Arn), "source": creds.ProviderName}
	if err := json.NewEncoder(os.Stdout).Encode(said); err != nil {
		fail(err)
	}
}
