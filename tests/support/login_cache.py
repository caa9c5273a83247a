"""`aws login` session caches for tests/login.rs, made by the real parts.

    login_cache.py write DIR SESSION [--expires-in S] [--key sec1|pkcs8|p384]
                   [--omit FIELD] [--refresh-token T] [--access-key-id A]
        Writes DIR/<sha256 of SESSION>.json as `aws login` does: a P-256 key
        from awscrt (the AWS CLI's own key code) as `EC PRIVATE KEY` (SEC1),
        the members in the CLI's order, through botocore's JSONFileCache
        (a 0600 temporary file, then a rename). Prints the public key as a
        JWK's x and y, and the file's path, as JSON.

    login_cache.py botocore PROFILE
        botocore's credentials for PROFILE (its login provider: the cache is
        read, refreshed through AWS_ENDPOINT_URL_SIGNIN when needed and
        written back); prints them as JSON.
"""

import argparse
import base64
import datetime
import json
import sys
import textwrap

from awscrt.crypto import EC, ECExportFormat, ECType
from botocore.utils import JSONFileCache, generate_login_cache_key


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem(label, der):
    body = textwrap.fill(base64.b64encode(der).decode(), width=64)
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def write(args):
    curve = ECType.P_384 if args.key == "p384" else ECType.P_256
    pkcs8 = args.key == "pkcs8"
    fmt = ECExportFormat.PKCS8 if pkcs8 else ECExportFormat.SEC1
    # awscrt cannot read back some keys it exports itself (now and then a
    # short scalar: "Key format is not supported"), so neither could the
    # AWS CLI: such a cache is no test of mfaenv. Take a key it reads back.
    for _ in range(64):
        key = EC.new_generate(curve)
        der = key.export_key(fmt)
        try:
            EC.new_key_from_der_data(der)
            break
        except RuntimeError:
            continue
    dpop = pem("PRIVATE KEY" if pkcs8 else "EC PRIVATE KEY", der)
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=args.expires_in
    )
    account = args.session.split(":")[4] if args.session.count(":") >= 4 else "012345678910"
    token = {
        "accessToken": {
            "accessKeyId": args.access_key_id,
            "secretAccessKey": "login/cli-written/SECRET",
            "sessionToken": "login-cli-written-session-token",
            "accountId": account,
            "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": args.refresh_token,
        "idToken": "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ0ZXN0In0.c2ln",
        "dpopKey": dpop,
    }
    if args.omit:
        token.pop(args.omit, None)
    JSONFileCache(args.dir)[generate_login_cache_key(args.session)] = token
    # awscrt drops leading zero bytes (1 key in 128); a JWK's coordinates
    # are the full 32 bytes (RFC 7518).
    x, y = (c.rjust(32, b"\0") for c in key.get_public_coords())
    path = f"{args.dir}/{generate_login_cache_key(args.session)}.json"
    print(json.dumps({"x": b64url(x), "y": b64url(y), "path": path}))


def from_botocore(args):
    import botocore.session

    session = botocore.session.Session(profile=args.profile)
    creds = session.get_credentials().get_frozen_credentials()
    print(
        json.dumps(
            {
                "access_key_id": creds.access_key,
                "secret_access_key": creds.secret_key,
                "session_token": creds.token,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("dir")
    w.add_argument("session")
    w.add_argument("--expires-in", type=int, default=600)
    w.add_argument("--key", choices=["sec1", "pkcs8", "p384"], default="sec1")
    w.add_argument("--omit")
    w.add_argument("--refresh-token", default="ASOR-first-refresh-token")
    w.add_argument("--access-key-id", default="ASIALOGINCLI00000001")
    b = sub.add_parser("botocore")
    b.add_argument("profile")
    args = parser.parse_args()
    if args.command == "write":
        write(args)
    else:
        from_botocore(args)


if __name__ == "__main__":
    sys.exit(main())
