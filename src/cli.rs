//! Every clap definition of mfaenv, in one place.

use std::ffi::OsString;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::shell::Format;

const EXAMPLES: &str = "\
Examples:
  eval \"$(mfaenv prod)\"                     # bash/zsh: MFA once, keys in this shell
  mfaenv export --shell fish prod | source  # fish
  mfaenv exec prod -- terraform plan        # one command with the keys
  eval \"$(mfaenv unset)\"                    # put the shell back";

#[derive(Debug, Parser)]
#[command(
    name = "mfaenv",
    version,
    about = "MFA-gated AWS credentials for your shell, your commands and any SDK",
    long_about = "mfaenv asks for your MFA code once (on the terminal, never on stdout), calls STS \
                  GetSessionToken / AssumeRole for an AWS profile, and hands the temporary keys to \
                  your shell (`eval \"$(mfaenv PROFILE)\"`), to one command (`mfaenv exec`) or to \
                  an SDK (`credential_process`).",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `mfaenv PROFILE` is `mfaenv export PROFILE`.
    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print shell code that exports the profile's temporary credentials
    #[command(after_help = "\
Examples:
  eval \"$(mfaenv export prod)\"                       # bash, zsh
  mfaenv export --shell fish prod | source           # fish
  mfaenv export --shell pwsh prod | Invoke-Expression  # PowerShell
  mfaenv export --shell dotenv prod > .env           # docker compose, dotenv
  mfaenv export -t 123456 prod                       # code from a script")]
    Export(ExportArgs),

    /// Run a command with the profile's temporary credentials in its environment
    #[command(after_help = "\
Examples:
  mfaenv exec prod -- terraform plan
  mfaenv exec prod -- aws sts get-caller-identity
  mfaenv exec prod -- eksctl get cluster")]
    Exec(ExecArgs),

    /// Print credentials as `credential_process` JSON for ~/.aws/config
    #[command(after_help = "\
Examples:
  # ~/.aws/config
  [profile prod-tf]
  credential_process = mfaenv credential-process prod
  region = us-west-2

  AWS_PROFILE=prod-tf terraform plan")]
    CredentialProcess(ProfileArgs),

    /// Get or refresh the profile's session into the cache; prints the expiry on stderr
    #[command(after_help = "\
Examples:
  mfaenv login prod                 # asks the code once; later commands use the cache
  mfaenv login --min-ttl 2h prod    # before a long terraform apply")]
    Login(ProfileArgs),

    /// List cached sessions with the time they have left, and the profile active in this shell
    #[command(after_help = "\
Examples:
  mfaenv status
  mfaenv status --json | jq '.sessions[] | select(.expired | not)'")]
    Status(StatusArgs),

    /// Delete cached sessions: those a profile uses, or all of them
    #[command(after_help = "\
Examples:
  mfaenv forget prod
  mfaenv forget --all")]
    Forget(ForgetArgs),

    /// Write the profile's session into a section of ~/.aws/credentials (default PROFILE-mfa)
    #[command(after_help = "\
Examples:
  mfaenv write prod                 # [prod-mfa] in ~/.aws/credentials
  mfaenv write prod --to mfa        # the classic [mfa] section
  AWS_PROFILE=prod-mfa terraform plan")]
    Write(WriteArgs),

    /// Print shell code that removes what mfaenv set and restores what was there
    #[command(after_help = "\
Examples:
  eval \"$(mfaenv unset)\"
  mfaenv unset --shell fish | source")]
    Unset(UnsetArgs),
}

/// How to get the credentials.
#[derive(Debug, Args, Clone, Default)]
pub struct AuthArgs {
    /// The MFA code (else `mfa_process`, else a prompt on the terminal)
    #[arg(short = 't', long, value_name = "CODE")]
    pub token_code: Option<String>,

    /// Region to call STS in and to export (default: the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Assume the role with the MFA code directly instead of through an MFA session
    #[arg(long)]
    pub direct: bool,

    /// Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_ttl: Option<Duration>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
}

#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// AWS profile (default: AWS_PROFILE, else `default`)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    #[command(flatten)]
    pub auth: AuthArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ExportArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// Output: bash, zsh, fish, pwsh, json or dotenv (default: from $SHELL)
    #[arg(short, long, value_name = "SHELL")]
    pub shell: Option<Format>,
}

#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args, Clone)]
pub struct UnsetArgs {
    /// Output: bash, zsh, fish, pwsh, json or dotenv (default: from $SHELL)
    #[arg(short, long, value_name = "SHELL")]
    pub shell: Option<Format>,
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ForgetArgs {
    /// Forget the sessions this profile uses (its MFA session and roles)
    #[arg(
        value_name = "PROFILE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub profile: Option<String>,

    /// Forget every cached session
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// The section of the credentials file to write (default: PROFILE-mfa)
    #[arg(long, value_name = "SECTION")]
    pub to: Option<String>,
}
