"""Differential test of mfaenv's profile reading against botocore's own.

Generates pairs of AWS config and credentials files from a seed, resolves a
profile of each with botocore (its config loader and its credential
resolver, network providers removed: an AssumeRole chain is lazy, so its
parameters can be read off the fetchers without calling STS) and with
`mfaenv plan --json`, and compares the two readings.

A case agrees, or differs only in one of the ways README.md ("Differences
from botocore") names as deliberate: then the same case is read by botocore
again with exactly that difference applied to botocore's side (e.g. a
config with a BOM is read without it) and must agree. Anything else is a
failure, printed with the case number; `--case N` reruns that one case and
prints its files and both readings.

Driven by tests/botocore_diff.rs; runs on its own too:
    python3 tests/support/botocore_diff.py --mfaenv target/debug/mfaenv --count 2000
"""

import argparse
import configparser
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import botocore.configloader
import botocore.credentials
import botocore.exceptions as bex
import botocore.session

# A Session registers some 40,000 event handlers for its clients, which
# take most of its start; no client is made here (nothing calls STS).
botocore.session.Session._register_builtin_handlers = lambda self, events: None

POOL = ["a", "b", "c", "d", "default", "Prod", "my prod"]
BOM = b"\xef\xbb\xbf"
ENV_KEY = "AKIAENVIRONMENT00001"

# ---------------------------------------------------------------- generator


class Case:
    def __init__(self, number, rng):
        self.number = number
        self.rng = rng
        self.features = set()
        self.config = []  # lines (str), or bytes chunks for raw bytes
        self.credentials = []
        self.env = {}
        self.target = None


def gen_case(seed, number):
    rng = random.Random(f"{seed}:{number}")
    case = Case(number, rng)
    names = rng.sample(POOL, rng.randint(2, len(POOL)))
    specs = {name: gen_profile(rng, name, names) for name in names}
    case.specs = specs
    indent = rng.random() < 0.15
    blocks = {"config": [], "credentials": []}
    for name, spec in specs.items():
        for file, lines in render_profile(case, name, spec, indent):
            blocks[file].append(lines)
    for file in ("config", "credentials"):
        extra = noise_sections(case, file)
        blocks[file].extend(extra)
        rng.shuffle(blocks[file])
        if rng.random() < 0.06:
            # The same section twice: botocore (strict configparser) refuses.
            dup = rng.choice(blocks[file]) if blocks[file] else None
            if dup and dup[0].lstrip().startswith("["):
                blocks[file].append(dup)
                case.features.add("duplicate")
        lines = [line for block in blocks[file] for line in block]
        if rng.random() < 0.3:
            lines.insert(0, rng.choice(["# top comment", "; top comment", ""]))
        setattr(case, file, lines)
    case.target = rng.choice(names + ["zz"] if rng.random() < 0.05 else names)
    if rng.random() < 0.8:
        case.env = {"AWS_ACCESS_KEY_ID": ENV_KEY, "AWS_SECRET_ACCESS_KEY": "env-secret"}
        if rng.random() < 0.3:
            case.env["AWS_SESSION_TOKEN"] = "env-token"
    case.eol = rng.choice(["\n"] * 6 + ["\r\n", "\r"])
    case.bom = {f: rng.random() < 0.03 for f in ("config", "credentials")}
    case.bad_byte = {f: rng.random() < 0.02 for f in ("config", "credentials")}
    if any(case.bom.values()):
        case.features.add("bom")
    return case


def gen_profile(rng, name, names):
    spec = {}
    r = rng.random()
    if r < 0.45:
        kind = rng.choice(["full"] * 8 + ["id-only", "secret-only"])
        key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        spec["keys"] = (kind, key_id, rng.random() < 0.15, rng.random() < 0.75)
    if rng.random() < 0.55:
        spec["role_arn"] = f"arn:aws:iam::{rng.randint(10**11, 10**12 - 1)}:role/r-{name.replace(' ', '_')}"
    if rng.random() < (0.85 if "role_arn" in spec else 0.3):
        pick = rng.random()
        if pick < 0.1:
            spec["source_profile"] = name
        elif pick < 0.16:
            spec["source_profile"] = "missing"
        else:
            spec["source_profile"] = rng.choice(names)
    if rng.random() < (0.1 if "source_profile" in spec else 0.12):
        spec["credential_source"] = "Environment"
    for key, p, values in [
        ("mfa_serial", 0.35, lambda: f"arn:aws:iam::{rng.randint(1, 9)}:mfa/{rng.choice(['alice', 'bob'])}"),
        ("external_id", 0.2, lambda: rng.choice(["ext-1", "ext # not a comment", "ext;2", "a=b", "x:y"])),
        ("role_session_name", 0.15, lambda: rng.choice(["sess-1", "me@corp", "a.b_c"])),
        ("duration_seconds", 0.3, lambda: str(rng.choice([900, 3600, 7200, 43200, 43200]))),
        ("region", 0.5, lambda: rng.choice(["us-east-1", "eu-west-1", "ap-south-1"])),
    ]:
        if rng.random() < p:
            spec[key] = values()
    if rng.random() < 0.08:
        # An empty value: botocore keeps "", mfaenv reads it as unset.
        spec[rng.choice(["external_id", "region", "mfa_serial", "role_session_name"])] = ""
    return spec


def config_header(rng, name):
    if name == "default" and rng.random() < 0.7:
        header = "[default]"
    else:
        quoted = f"'{name}'" if " " in name or rng.random() < 0.1 else name
        header = rng.choice(
            [f"[profile {quoted}]"] * 6
            + [f"[profile  {quoted} ]", f"[profile\t{quoted}]", f'[profile "{name}"]']
        )
    return header + trailer(rng)


def trailer(rng):
    return rng.choice([""] * 8 + [" # note", " ; note", " junk"])


def key_line(case, key, value, indent):
    rng = case.rng
    checked = key in ("duration_seconds", "role_session_name")
    if rng.random() < 0.15:
        key = rng.choice([key.upper(), key.title()])
    if key == "aws_access_key_id" and rng.random() < 0.02:
        key = "aws_access_\u212aey_id"  # KELVIN SIGN: lower() makes it a k
    sep = rng.choice([" = "] * 6 + ["=", ": ", " :", "\t=\t"])
    pad = rng.choice([""] * 8 + [" ", "\t", "\u00a0", "\x1f"]) if value else ""
    lead = "  " if indent else ""
    if value == "":
        case.features.add("empty")
    lines = [f"{lead}{key}{sep}{value}{pad}"]
    # (Not on the two values mfaenv checks before a code is spent: a
    # continued duration or session name is refused, by STS in botocore's case.)
    if value and rng.random() < 0.05 and not checked:
        # A continuation line, deeper than its key.
        lines.append(lead + "    more")
    return lines


def render_profile(case, name, spec, indent):
    rng = case.rng
    config, creds = [config_header(rng, name)], [f"[{name}]{trailer(rng)}"]
    keys = spec.get("keys")
    if keys:
        kind, key_id, token, in_creds = keys
        target = creds if in_creds else config
        if kind != "secret-only":
            target += key_line(case, "aws_access_key_id", key_id, indent)
        if kind != "id-only":
            target += key_line(case, "aws_secret_access_key", "s3cr3t/" + key_id[-6:], indent)
        if token:
            target += key_line(case, "aws_session_token", "token-" + key_id[-4:], indent)
    for key, value in spec.items():
        if key != "keys":
            config += key_line(case, key, value, indent)
        if rng.random() < 0.05:
            config.append(rng.choice(["# comment", "; comment", "", "   # indented comment"]))
    if rng.random() < 0.1:
        config += nested_block(case)
    out = [("config", config)]
    if len(creds) > 1:
        out.append(("credentials", creds))
    return out


def nested_block(case):
    rng = case.rng
    lines = ["s3 =", "  max_concurrent_requests = 4", "  addressing_style = path"]
    if rng.random() < 0.2:
        lines.append("  no equals sign here")
        case.features.add("nested")
    return lines


def noise_sections(case, file):
    rng = case.rng
    out = []
    if file == "config":
        if rng.random() < 0.2:
            out.append(["[sso-session corp]", "sso_region = us-east-1", "role_arn = arn:aws:iam::1:role/sso"])
        if rng.random() < 0.15:
            out.append(["[services dev]", "sts =", "  endpoint_url = http://127.0.0.1:1"])
        if rng.random() < 0.15:
            # A bare [NAME] in the config file is no profile there.
            out.append([f"[{rng.choice(POOL[:4])}]", "region = sa-east-1", "role_arn = arn:aws:iam::1:role/bare"])
        if rng.random() < 0.04:
            out.append(["[DEFAULT]", "region = ca-central-1", "output = json"])
    else:
        if rng.random() < 0.1:
            # [profile x] in the credentials file is a profile named "profile x".
            out.append([f"[profile {rng.choice(POOL[:4])}]", "aws_access_key_id = AKIAWRONGFILE0000001", "aws_secret_access_key = w"])
        if rng.random() < 0.03:
            out.append(["[DEFAULT]", "aws_session_token = default-token"])
    return out


def file_bytes(case, file):
    text = case.eol.join(getattr(case, file)) + case.eol
    data = text.encode("utf-8")
    if case.bad_byte[file]:
        data += b"# \xff\xfe not UTF-8" + case.eol.encode()
    if case.bom[file]:
        data = BOM + data
    return data


# ---------------------------------------------------------------- botocore


@contextlib.contextmanager
def deliberate(kinds):
    """botocore with mfaenv's deliberate differences applied to its side."""
    raw = botocore.configloader.raw_config_parse
    nested = botocore.configloader._parse_nested
    parser = configparser.RawConfigParser

    def parse(path, parse_subsections=True):
        if "bom" in kinds and path and os.path.isfile(path):
            data = open(path, "rb").read()
            if data.startswith(BOM):
                fd, copy = tempfile.mkstemp()
                os.write(fd, data[len(BOM):])
                os.close(fd)
                try:
                    return parse(copy, parse_subsections)
                finally:
                    os.unlink(copy)
        result = raw(path, parse_subsections)
        if "empty" in kinds:
            for section in result.values():
                for key in [k for k, v in section.items() if v == ""]:
                    del section[key]
        return result

    def lenient_nested(value):
        return nested("\n".join(l for l in value.splitlines() if "=" in l))

    botocore.configloader.raw_config_parse = parse
    if "duplicate" in kinds:
        configparser.RawConfigParser = lambda *a, **k: parser(*a, strict=False, **k)
    if "nested" in kinds:
        botocore.configloader._parse_nested = lenient_nested
    try:
        yield
    finally:
        botocore.configloader.raw_config_parse = raw
        botocore.configloader._parse_nested = nested
        configparser.RawConfigParser = parser


def botocore_view(case, paths, kinds):
    env = {"AWS_CONFIG_FILE": paths["config"], "AWS_SHARED_CREDENTIALS_FILE": paths["credentials"]}
    env.update(case.env)
    with patched_env(env), deliberate(kinds):
        try:
            return resolve_botocore(case.target, "vault" in kinds)
        except bex.ConfigParseError:
            return {"error": "parse"}
        except bex.ProfileNotFound:
            return {"error": "unknown-profile"}
        except bex.InfiniteLoopConfigError:
            return {"error": "loop"}
        except bex.PartialCredentialsError as e:
            missing = e.kwargs.get("cred_var", "")
            return {"error": "no-source" if "credential_source" in missing else "partial"}
        except bex.InvalidConfigError as e:
            message = str(e)
            if "contains both" in message:
                return {"error": "both"}
            if "does not exist" in message:
                return {"error": "missing-source"}
            if "must have credentials" in message:
                return {"error": "no-credentials"}
            if "credential source" in message and "is not valid" in message:
                return {"error": "credential-source"}
            return {"error": "invalid: " + message}
        except bex.CredentialRetrievalError:
            return {"error": "env"}


@contextlib.contextmanager
def patched_env(env):
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(env)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def resolve_botocore(target, vault):
    session = botocore.session.Session(profile=target)
    scoped = session.get_scoped_config()
    profiles = session.full_config["profiles"]
    sources = {}
    if vault:
        sources = vault_sessions(profiles)
    resolver = session.get_component("credential_provider")
    for name in ("env", "container-role", "iam-role", "boto-config", "ec2-credentials-file"):
        with contextlib.suppress(Exception):
            resolver.remove(name)
    if vault:
        # The session profile's keys are put in its place in the merged
        # profiles: read them from there, not from the files.
        resolver.get_provider("assume-role")._profile_provider_builder = None
    creds = resolver.load_credentials()
    if creds is None and target in sources:
        p = profiles[target]
        creds = botocore.credentials.Credentials(p["aws_access_key_id"], p["aws_secret_access_key"], p.get("aws_session_token"))
    if creds is None:
        return {"error": "unknown-profile" if target not in profiles else "no-credentials"}
    roles = []
    while getattr(creds, "method", None) == "assume-role":
        refresh = creds._refresh_using
        fetcher = getattr(refresh, "_refresh", refresh).__self__
        kwargs = fetcher._assume_kwargs
        roles.append({
            "role_arn": kwargs["RoleArn"],
            "external_id": kwargs.get("ExternalId"),
            "role_session_name": None if fetcher._using_default_session_name else kwargs.get("RoleSessionName"),
            "duration_seconds": kwargs.get("DurationSeconds"),
            "serial": kwargs.get("SerialNumber"),
        })
        creds = fetcher._source_credentials
    roles.reverse()
    visited = [target]
    if roles:
        visited = list(resolver.get_provider("assume-role")._visited_profiles)
    session_profile = None
    if visited[-1] in sources:
        session_profile = visited[-1]
        visited.append(sources[session_profile])
    serial = next((r["serial"] for r in roles if r["serial"]), None)
    if serial is None and session_profile:
        serial = profiles[session_profile].get("mfa_serial")
    if serial is None:
        serial = profiles.get(visited[-1], {}).get("mfa_serial")
    if isinstance(serial, dict) or serial == "":
        serial = None
    region = next((profiles.get(p, {}).get("region") for p in visited if profiles.get(p, {}).get("region")), None)
    for r in roles:
        del r["serial"]
    return {
        "access_key_id": creds.access_key,
        "temporary": bool(creds.token),
        "roles": roles,
        "serial": serial,
        "region": region,
        "own_region": scoped.get("region") or None,
    }


def vault_sessions(profiles):
    """aws-vault's MFA-session profile (source_profile + no role_arn, no
    keys) as mfaenv reads it: the source's keys in this profile's place.
    Returns {session profile: its source}."""
    sources = {}
    for name, p in profiles.items():
        src = p.get("source_profile")
        has_keys = "aws_access_key_id" in p or "aws_secret_access_key" in p
        if src and src != name and "role_arn" not in p and not has_keys and src in profiles:
            base = profiles[src]
            if "aws_access_key_id" in base and "aws_secret_access_key" in base:
                for key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
                    if key in base:
                        p[key] = base[key]
                del p["source_profile"]
                p.pop("credential_source", None)
                sources[name] = src
    return sources


# ---------------------------------------------------------------- mfaenv


def mfaenv_view(binary, case, paths, home):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LC_ALL": "C.UTF-8",
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "AWS_CONFIG_FILE": paths["config"],
        "AWS_SHARED_CREDENTIALS_FILE": paths["credentials"],
    }
    env.update(case.env)
    out = subprocess.run(
        [binary, "plan", "--json", case.target], env=env, capture_output=True, stdin=subprocess.DEVNULL
    )
    if out.returncode != 0:
        if out.stdout:
            return {"error": "stdout on error: " + out.stdout.decode(errors="replace")}
        return {"error": mfaenv_error(out.stderr.decode(errors="replace")), "stderr": out.stderr.decode(errors="replace")}
    plan = json.loads(out.stdout)
    roles = [
        {
            "role_arn": s["role_arn"],
            "external_id": s["external_id"],
            "role_session_name": None if s["role_session_name_origin"]["what"] == "mfaenv's default" else s["role_session_name"],
            "duration_seconds": s["duration_seconds"],
        }
        for s in plan["steps"]
        if s["call"] == "AssumeRole"
    ]
    return {
        "access_key_id": plan["source"]["access_key_id"],
        "temporary": plan["source"]["temporary"],
        "roles": roles,
        "serial": (plan["mfa"] or {}).get("serial_number"),
        "region": (plan["region"] or {}).get("value"),
        "session_profile": plan["session_profile"],
    }


MFAENV_ERRORS = [
    ("credential_source = Environment, but", "env"),
    ("is not supported by mfaenv", "credential-source"),
    ("source_profile cycle", "loop"),
    ("not found in", "unknown-profile"),
    ("not both", "both"),
    ("does not exist", "missing-source"),
    ("needs source_profile or credential_source", "no-source"),
    ("without aws_secret_access_key", "partial"),
    ("without aws_access_key_id", "partial-secret-only"),
    ("has neither", "no-credentials"),
    ("must hold aws_access_key_id", "no-credentials"),
    ("not valid UTF-8", "parse"),
    ("unterminated section header", "parse"),
    ("expected `key = value`", "parse"),
    ("a key before any [section] header", "parse"),
]


def mfaenv_error(stderr):
    for needle, kind in MFAENV_ERRORS:
        if needle in stderr:
            return kind
    return "other"


# ---------------------------------------------------------------- compare


def compare(m, b, case):
    """None when mfaenv's reading `m` matches botocore's `b`; else
    "deliberate: KIND" for a difference README.md names, else why not.
    Adjusts `b` for the deliberate differences of the chain (README.md):
    region from the source, the 1h clamp of a chained role."""
    if "error" in m or "error" in b:
        me, be = m.get("error"), b.get("error")
        if me == be:
            return None
        # mfaenv names the missing access key id; botocore says the
        # source has no credentials.
        if me == "partial-secret-only" and be in ("no-credentials", "partial"):
            return "deliberate: secret-only"
        # aws-vault's MFA-session shape (source_profile without role_arn)
        # on the way: botocore sees no credentials there, mfaenv follows
        # source_profile and fails further down.
        if be == "no-credentials" and me is not None and vault_shape(case):
            return "deliberate: vault"
        return f"error: mfaenv {me!r}, botocore {be!r}"
    expected = dict(b)
    roles = [dict(r) for r in b["roles"]]
    for r in roles[1:]:
        if r["duration_seconds"] is not None and r["duration_seconds"] > 3600:
            r["duration_seconds"] = 3600
    expected["roles"] = roles
    for key in ("access_key_id", "temporary", "roles", "serial", "region"):
        if m[key] != expected[key]:
            return f"{key}: mfaenv {m[key]!r}, botocore {expected[key]!r}"
    return None


def vault_shape(case):
    """Whether the target's source_profile chain (as generated) goes
    through aws-vault's MFA-session shape: source_profile, no role_arn, no keys."""
    name, seen = case.target, set()
    while name in case.specs and name not in seen:
        seen.add(name)
        spec = case.specs[name]
        role = "role_arn" in spec
        if "keys" in spec and (name != case.target or not role):
            return False
        if not role:
            return "source_profile" in spec
        if "credential_source" in spec or "source_profile" not in spec:
            return False
        name = spec["source_profile"]
    return False


def run_case(binary, seed, number, workdir):
    case = gen_case(seed, number)
    home = os.path.join(workdir, str(number))
    os.makedirs(home, exist_ok=True)
    paths = {f: os.path.join(home, f) for f in ("config", "credentials")}
    for f, path in paths.items():
        with open(path, "wb") as fh:
            fh.write(file_bytes(case, f))
    m = mfaenv_view(binary, case, paths, home)
    return case, paths, m


def judge(case, paths, m):
    """(why it fails or None, the deliberate differences it showed, botocore's reading)."""
    b = botocore_view(case, paths, set())
    why = compare(m, b, case)
    kinds = set()
    if why is not None and not why.startswith("deliberate: "):
        # A deliberate difference: the same case with it applied to botocore.
        candidates = set(case.features)
        if m.get("session_profile"):
            candidates.add("vault")
        if candidates:
            b2 = botocore_view(case, paths, candidates)
            why2 = compare(m, b2, case)
            if why2 is None or why2.startswith("deliberate: "):
                kinds = candidates & needed(case, paths, m, candidates)
                why = why2
            b = {"as read": b, f"with {sorted(candidates)}": b2}
    if why is not None and why.startswith("deliberate: "):
        kinds.add(why.split(": ", 1)[1])
        why = None
    if why is None and "error" not in m:
        final = b if "roles" in b else list(b.values())[-1]
        if m["region"] != final.get("own_region"):
            kinds.add("region-from-source")
        if any(r["duration_seconds"] and r["duration_seconds"] > 3600 for r in final["roles"][1:]):
            kinds.add("chained-clamp")
    return why, kinds, b


def needed(case, paths, m, candidates):
    """The deliberate differences the case needed: each one left out in turn."""
    used = set()
    for kind in candidates:
        rest = candidates - {kind}
        why = compare(m, botocore_view(case, paths, rest), case)
        if why is not None and not why.startswith("deliberate: "):
            used.add(kind)
    return used or candidates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mfaenv", required=True)
    ap.add_argument("--seed", default="mfaenv-11")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--case", type=int)
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()
    numbers = [args.case] if args.case is not None else list(range(args.count))
    summary = {"cases": 0, "agreed": 0, "deliberate": {}, "errors": {}, "failures": []}
    with tempfile.TemporaryDirectory(prefix="mfaenv-botocore-diff-") as workdir:
        with ThreadPoolExecutor(args.jobs) as pool:
            runs = pool.map(lambda n: run_case(args.mfaenv, args.seed, n, workdir), numbers)
            for case, paths, m in runs:
                why, kinds, b = judge(case, paths, m)
                summary["cases"] += 1
                if "error" not in m:
                    summary["resolved"] = summary.get("resolved", 0) + 1
                if "error" in m:
                    summary["errors"][m["error"]] = summary["errors"].get(m["error"], 0) + 1
                if why is not None:
                    summary["failures"].append({"case": case.number, "why": why})
                elif kinds:
                    for kind in sorted(kinds):
                        summary["deliberate"][kind] = summary["deliberate"].get(kind, 0) + 1
                else:
                    summary["agreed"] += 1
                if args.case is not None:
                    for f, path in paths.items():
                        print(f"--- {f}:\n{open(path, 'rb').read()!r}")
                    print(f"--- profile {case.target!r}, env {case.env}, features {sorted(case.features)}")
                    print("--- mfaenv:  ", json.dumps(m, sort_keys=True))
                    print("--- botocore:", json.dumps(b, sort_keys=True))
                    print("--- verdict: ", why or f"agree (deliberate: {sorted(kinds)})")
    print(json.dumps(summary, sort_keys=True))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
