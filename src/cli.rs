//! Every clap definition of mfaenv, in one place.

use std::ffi::OsString;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::shell::{Format, HookShell};

const EXAMPLES: &str = "\
Examples:
  eval \"$(mfaenv prod)\"                     # bash/zsh: MFA once, keys in this shell
  mfaenv export --shell fish prod | source  # fish
  mfaenv exec prod -- terraform plan        # one command with the keys
  eval \"$(mfaenv unset)\"                    # put the shell back";

const CONSOLE_DURATION_HELP: &str = "How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session's or GetFederationToken's length (see docs/console.md)";

const TOP_PROFILE_HELP: &str = "AWS profile to export (`mfaenv` alone prints this help; \
     `mfaenv export` alone uses AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`)";

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
    subcommand_negates_reqs = true,
    // Bare `mfaenv` prints this help, so the top-level PROFILE has no
    // default; `mfaenv export` (no PROFILE) is the one that reads AWS_PROFILE.
    mut_arg("profile", |a| a.help(TOP_PROFILE_HELP))
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
  mfaenv export -t 123456 prod                       # code from a script
  terragrunt run-all plan --auth-provider-cmd \"mfaenv export --shell terragrunt prod\"")]
    Export(ExportArgs),

    /// Run a command with the profile's temporary credentials in its environment
    #[command(after_help = "\
Examples:
  mfaenv exec prod terraform plan
  mfaenv exec prod aws sts get-caller-identity --region eu-west-1   # --region is the AWS CLI's
  mfaenv exec --duration 2h prod -- terraform apply                 # a 2h role session
  mfaenv exec --server prod -- terraform apply                      # keys refreshed for as long as it runs
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
  mfaenv login --duration 3h --min-ttl 2h prod   # before a long apply: 2h of a 3h session left at least
  mfaenv login dev                  # an IAM Identity Center profile: logs in in the browser
  mfaenv login --use-device-code dev")]
    Login(LoginArgs),

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

    /// Print the shell integration that loads a directory's `.mfaenv` on `cd`
    #[command(after_help = "\
Examples:
  eval \"$(mfaenv hook bash)\"                          # ~/.bashrc
  eval \"$(mfaenv hook zsh)\"                           # ~/.zshrc
  mfaenv hook fish | source                           # ~/.config/fish/config.fish
  Invoke-Expression (& mfaenv hook pwsh | Out-String)  # $PROFILE")]
    Hook(HookArgs),

    /// Trust a directory's `.mfaenv` file (this version of it) so the hook loads it
    #[command(after_help = "\
Examples:
  echo 'profile = \"prod\"' > .mfaenv && mfaenv allow
  mfaenv allow ~/src/infra-prod")]
    Allow(TrustArgs),

    /// Block a directory's `.mfaenv` file until it is allowed again
    #[command(after_help = "\
Examples:
  mfaenv deny
  mfaenv deny ~/src/untrusted-checkout")]
    Deny(TrustArgs),

    /// Make the hook load this directory's `.mfaenv` again at the next prompt (after a failed load)
    #[command(after_help = "\
Examples:
  mfaenv reload          # after `cannot load prod: …`, once the keyring or network is back")]
    Reload,

    /// Print a direnv library so `.envrc` can say `use mfaenv PROFILE`
    #[command(after_help = "\
Examples:
  mkdir -p ~/.config/direnv && mfaenv direnv >> ~/.config/direnv/direnvrc
  echo 'use mfaenv prod' >> .envrc && direnv allow")]
    Direnv,

    /// The hook's worker, run by the shell integration (prints shell code)
    #[command(hide = true)]
    HookEnv(HookEnvArgs),

    /// The completions' helper: profile names, when the word after WORDS is a PROFILE
    #[command(name = "__profiles", hide = true)]
    Profiles(ProfilesArgs),

    /// Print shell code that removes what mfaenv set and restores what was there
    #[command(after_help = "\
Examples:
  eval \"$(mfaenv unset)\"
  mfaenv unset --shell fish | source")]
    Unset(UnsetArgs),

    /// Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)
    #[command(after_help = "\
Examples:
  mkdir -p ~/.local/share/bash-completion/completions
  mfaenv completions bash > ~/.local/share/bash-completion/completions/mfaenv
  mkdir -p ~/.zfunc && mfaenv completions zsh > ~/.zfunc/_mfaenv   # with fpath+=(~/.zfunc) before compinit
  mkdir -p ~/.config/fish/completions
  mfaenv completions fish > ~/.config/fish/completions/mfaenv.fish
  mfaenv completions powershell | Out-String | Invoke-Expression   # in $PROFILE")]
    Completions(CompletionsArgs),

    /// Dry run: show how the profile resolves (keys' origin, each STS step, region, endpoint, cache); calls nothing
    #[command(after_help = "\
Examples:
  mfaenv plan prod
  mfaenv plan --json prod | jq '.steps[] | {call, action}'
  mfaenv plan --direct --duration 2h prod   # what export would do with these flags")]
    Plan(PlanArgs),

    /// Find the MFA device of the profile's IAM user and record it as mfa_serial in ~/.aws/config
    #[command(after_help = "\
Examples:
  mfaenv setup prod        # asks which device when the user has several
  mfaenv setup prod --serial arn:aws:iam::123456789012:mfa/alice
  mfaenv login prod        # then: one code, cached")]
    Setup(SetupArgs),

    /// Store a profile's long-term keys in the OS keyring or the encrypted file store
    #[command(after_help = "\
Examples:
  mfaenv add base                   # asks the key id and the secret (not echoed)
  mfaenv add --env base             # from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  mfaenv add --backend file base    # the encrypted file store, not the keyring")]
    Add(AddArgs),

    /// List the profiles with long-term keys and where they live (never a secret)
    #[command(after_help = "\
Examples:
  mfaenv keys
  mfaenv keys --json | jq -r '.keys[] | select(.store == \"file\") | .profile'")]
    Keys(KeysArgs),

    /// Delete a profile's stored keys and its cached sessions
    #[command(after_help = "\
Examples:
  mfaenv remove base
  mfaenv remove --yes base          # no question (scripts)")]
    Remove(RemoveArgs),

    /// Move long-term keys from ~/.aws/credentials into the key store
    #[command(after_help = "\
Examples:
  mfaenv import --all               # every profile with long-term keys in the file
  mfaenv import base other          # just these")]
    Import(ImportArgs),

    /// Replace a profile's long-term key with a new one (one MFA code; the old key is deleted only once the new one works)
    #[command(after_help = "\
Examples:
  mfaenv rotate base                # one code; prints both key ids
  mfaenv rotate --dry-run base      # what it would do; calls nothing
  mfaenv rotate --all               # every key older than key_max_age (default 90 days)
  mfaenv rotate base                # again after an interruption: finishes the job")]
    Rotate(RotateArgs),

    /// Open the AWS console signed in as the profile (federation sign-in), in your browser
    #[command(after_help = "\
Examples:
  mfaenv console prod                       # the console home in prod's region
  mfaenv console prod --service ec2         # straight to EC2
  mfaenv console prod --path '/ec2/home?#Instances:'
  mfaenv console --isolate prod             # prod in a browser profile of its own
  mfaenv console --isolate staging          # ...next to staging in another one
  mfaenv console --browser firefox prod
  mfaenv console --list-browsers",
        mut_arg("duration", |a| a.help(CONSOLE_DURATION_HELP))
    )]
    Console(ConsoleArgs),
    /// IAM Identity Center: write a profile for every account and role a login reaches
    #[command(
        subcommand,
        after_help = "\
Examples:
  mfaenv sso populate corp                  # a profile per account and role of [sso-session corp]
  mfaenv sso populate --prefix corp- corp"
    )]
    Sso(SsoCommand),
}

#[derive(Debug, Args, Clone, Default)]
pub struct LoginArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// IAM Identity Center: log in with the device authorization flow (a code to confirm) instead of a redirect to 127.0.0.1
    #[arg(long)]
    pub use_device_code: bool,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote
    #[command(after_help = "\
Examples:
  mfaenv sso populate corp                  # profiles named ACCOUNT-ROLE
  mfaenv sso populate --prefix corp- corp   # corp-ACCOUNT-ROLE")]
    Populate(PopulateArgs),
}

#[derive(Debug, Args, Clone)]
pub struct PopulateArgs {
    /// The [sso-session SESSION] section of ~/.aws/config
    #[arg(value_name = "SESSION")]
    pub session: String,

    /// Put this before every profile name
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub prefix: String,

    /// IAM Identity Center: log in with the device authorization flow when a login is needed
    #[arg(long)]
    pub use_device_code: bool,
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

    /// How long new credentials last (aws-vault's --duration): the role's DurationSeconds, or the MFA session's for a profile without a role
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile's mfa_prompt, else auto)
    #[arg(long, value_name = "NAME", value_parser = parse_prompt)]
    pub prompt: Option<crate::prompt::Choice>,
}

fn parse_prompt(text: &str) -> Result<crate::prompt::Choice, String> {
    text.parse()
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
}

#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// AWS profile (default: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    #[command(flatten)]
    pub auth: AuthArgs,
}

impl ProfileArgs {
    /// The profile named, else the default one.
    pub fn name(&self) -> String {
        self.profile
            .clone()
            .unwrap_or_else(crate::resolve::default_profile)
    }
}

impl Cli {
    /// `--prompt`, on the commands that take it.
    pub fn prompt(&self) -> Option<crate::prompt::Choice> {
        let target = match &self.command {
            Some(Command::Export(a)) => &a.target,
            Some(Command::Exec(a)) => &a.target,
            Some(Command::Write(a)) => &a.target,
            Some(Command::CredentialProcess(a)) => a,
            Some(Command::Login(a)) => &a.target,
            Some(Command::Plan(a)) => &a.target,
            None => &self.export.target,
            _ => return None,
        };
        target.auth.prompt.clone()
    }

    /// The profile the command is for (the hint after an error names it).
    pub fn profile(&self) -> String {
        let target = match &self.command {
            Some(Command::Export(a)) => &a.target,
            Some(Command::Exec(a)) => &a.target,
            Some(Command::Write(a)) => &a.target,
            Some(Command::CredentialProcess(a)) => a,
            Some(Command::Login(a)) => &a.target,
            Some(Command::Setup(a)) => return a.name(),
            Some(Command::Plan(a)) => &a.target,
            Some(Command::Rotate(a)) => {
                return a
                    .profile
                    .clone()
                    .unwrap_or_else(crate::resolve::default_profile)
            }
            Some(Command::Console(a)) => &a.target,
            None => &self.export.target,
            _ => return crate::resolve::default_profile(),
        };
        target.name()
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct ExportArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)
    #[arg(short, long, value_name = "SHELL")]
    pub shell: Option<Format>,

    /// Print the keys even when stdout is a terminal (refused by default without --shell)
    #[arg(long)]
    pub force: bool,
}

/// `exec PROFILE CMD ARGS…` or `exec PROFILE -- CMD ARGS…`: as in aws-vault,
/// mfaenv's flags come before the command, and everything from the command
/// on is the command's, its own flags included. `exec -- CMD` (no PROFILE)
/// uses AWS_PROFILE: see [`parse`].
#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// Stay the parent and serve refreshing credentials to the command on 127.0.0.1 (the container credentials protocol) instead of putting keys in its environment; also MFAENV_SERVER=1 or `mfaenv_server = true` in the profile
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments (`--` before them is optional)
    // Not `required`: clap refuses a required positional after the optional
    // PROFILE; `exec` itself refuses an empty command.
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args, Clone)]
pub struct UnsetArgs {
    /// Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)
    #[arg(short, long, value_name = "SHELL")]
    pub shell: Option<Format>,

    /// Remove every AWS credential variable, also those mfaenv did not set
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,

    /// One short line for a prompt (`prod 42m`) from this shell's environment; nothing when no profile is active
    #[arg(long, conflicts_with = "json")]
    pub short: bool,
}

/// One of PROFILE and --all: a required group, so that the usage line
/// says `<PROFILE|--all>`.
#[derive(Debug, Args, Clone)]
pub struct AddArgs {
    /// The profile whose keys these are (`[profile PROFILE]` is added to the config when missing)
    #[arg(value_name = "PROFILE")]
    pub profile: String,

    /// Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking
    #[arg(long)]
    pub env: bool,

    /// Where to keep them (default: MFAENV_BACKEND, else the profile's key_store, else the keyring when one answers, else the file)
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<crate::keystore::Backend>,
}

#[derive(Debug, Args, Clone)]
pub struct KeysArgs {
    /// JSON: {"keys": [{"profile", "store", "key_id_last4", "location"}]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct RemoveArgs {
    /// The profile whose stored keys to delete
    #[arg(value_name = "PROFILE")]
    pub profile: String,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("which").args(["profiles", "all"]).required(true)))]
pub struct ImportArgs {
    /// The profiles whose keys to move out of the credentials file
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<String>,

    /// Every profile with long-term keys in the credentials file
    #[arg(long)]
    pub all: bool,

    /// Where to keep them (as for `add`)
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<crate::keystore::Backend>,

    /// Also add `credential_process = mfaenv credential-process NAME` to each moved profile's config section, so the AWS CLI keeps finding its keys
    #[arg(long)]
    pub credential_process: bool,
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("which").args(["profile", "all"]).required(true)))]
pub struct RotateArgs {
    /// The profile whose long-term key to replace (a role profile: its source's)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Every stored key older than its key_max_age, and every rotation left unfinished
    #[arg(long)]
    pub all: bool,

    /// Say what would be done; call nothing, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// The MFA code (else `mfa_process`, else a prompt on the terminal)
    #[arg(short = 't', long, value_name = "CODE")]
    pub token_code: Option<String>,

    /// Region to call STS in (default: the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url); IAM's is AWS_ENDPOINT_URL_IAM
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("what").args(["profile", "all"]).required(true)))]
pub struct ForgetArgs {
    /// Forget the sessions this profile uses (its MFA session and roles)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Forget every cached session
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// The section of the credentials file to write (default: PROFILE-mfa)
    #[arg(long, value_name = "SECTION")]
    pub to: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub target: ProfileArgs,

    /// Land on this service's console (ec2, s3, iam, lambda, …; see docs/console.md)
    #[arg(long, value_name = "SERVICE", conflicts_with = "path")]
    pub service: Option<String>,

    /// Land on this console path (e.g. '/ec2/home?#Instances:'); the region is added
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// Print the sign-in URL on stdout instead of opening it (it signs in whoever opens it, for 15 minutes)
    #[arg(long)]
    pub print: bool,

    /// The browser command (default: $BROWSER, else the platform's opener; with --isolate, a known browser on PATH)
    #[arg(long, value_name = "CMD", conflicts_with = "print")]
    pub browser: Option<String>,

    /// Open the profile in a browser profile of its own (Chromium/Chrome/Edge --user-data-dir, Firefox --profile), so several accounts stay signed in side by side
    #[arg(long, conflicts_with = "print")]
    pub isolate: bool,

    /// List the browsers found on PATH (name, family, path) and exit
    #[arg(long, exclusive = true)]
    pub list_browsers: bool,
}

/// The shells `mfaenv completions` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "pwsh")]
    Powershell,
    Elvish,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    #[arg(value_name = "SHELL")]
    pub shell: CompletionShell,
}

#[derive(Debug, Args, Clone)]
pub struct SetupArgs {
    /// AWS profile (default: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`)
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The device to record when the user has several (its ARN, as `aws iam list-mfa-devices` shows it)
    #[arg(long, value_name = "ARN")]
    pub serial: Option<String>,

    /// Replace a different mfa_serial the profile already has without asking
    #[arg(long)]
    pub force: bool,
}

impl SetupArgs {
    /// The profile named, else the default one.
    pub fn name(&self) -> String {
        self.profile
            .clone()
            .unwrap_or_else(crate::resolve::default_profile)
    }
}

#[derive(Debug, Args, Clone)]
pub struct HookArgs {
    /// The shell to integrate with
    #[arg(value_name = "SHELL")]
    pub shell: HookShell,
}

#[derive(Debug, Args, Clone)]
pub struct TrustArgs {
    /// The directory (or the `.mfaenv` file); default: the nearest `.mfaenv` from here
    #[arg(value_name = "DIR")]
    pub path: Option<std::path::PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ProfilesArgs {
    /// The words of the command line after `mfaenv`, before the one being completed
    #[arg(last = true, value_name = "WORDS")]
    pub words: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct HookEnvArgs {
    #[arg(short, long, value_name = "SHELL")]
    pub shell: Format,
}

/// clap's parse of `args`, with one fix clap cannot express: in
/// `exec -- CMD ARGS…` the `--` comes before any PROFILE, so CMD is the
/// command, not the profile.
pub fn try_parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let args: Vec<OsString> = args.into_iter().collect();
    let mut cli = Cli::try_parse_from(&args)?;
    if let Some(Command::Exec(exec)) = &mut cli.command {
        if exec.target.profile.is_some() && !profile_before_dashes(&args) {
            if let Some(word) = exec.target.profile.take() {
                exec.command.insert(0, OsString::from(word));
            }
        }
    }
    Ok(cli)
}

/// Whether an `exec` command line names its PROFILE before its first `--`
/// (true when it has no `--`).
fn profile_before_dashes(args: &[OsString]) -> bool {
    let Some(dashes) = args.iter().position(|a| a == "--") else {
        return true;
    };
    let Ok(matches) = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(&args[..dashes])
    else {
        return true;
    };
    matches
        .subcommand_matches("exec")
        .is_some_and(|exec| exec.contains_id("profile"))
}

/// Every subcommand name (a bare `mfaenv NAME` with one of these is that
/// command, not a profile); a test checks it against clap's own list.
const SUBCOMMANDS: &[&str] = &[
    "export",
    "exec",
    "credential-process",
    "login",
    "status",
    "forget",
    "write",
    "hook",
    "allow",
    "deny",
    "direnv",
    "hook-env",
    "unset",
    "completions",
    "setup",
    "plan",
    "add",
    "keys",
    "remove",
    "import",
    "console",
    "sso",
    "reload",
    "rotate",
    "__profiles",
    "help",
];

/// The command lines the shells run at every `eval` and `cd`: `mfaenv
/// PROFILE` and `mfaenv export PROFILE`, each with an optional `--shell S`
/// (`-s S`), and `mfaenv hook-env --shell S`. These are read without
/// building clap's command tree, which costs a cached run a fifth of its
/// instructions and the pages they live on. The result is exactly what clap
/// would return (a test compares them); every other command line, and every
/// mistake, returns `None` and goes to clap.
pub fn parse_fast(args: impl IntoIterator<Item = OsString>) -> Option<Cli> {
    let args = args
        .into_iter()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect::<Option<Vec<String>>>()?;
    let (first, rest) = args.split_first()?;
    let command = match first.as_str() {
        "hook-env" => {
            let [flag, shell] = rest else { return None };
            if flag != "--shell" && flag != "-s" {
                return None;
            }
            Command::HookEnv(HookEnvArgs {
                shell: shell.parse().ok()?,
            })
        }
        "export" => Command::Export(export_args(rest)?),
        _ => {
            if args.iter().any(|arg| SUBCOMMANDS.contains(&arg.as_str())) {
                return None;
            }
            return Some(Cli {
                command: None,
                export: export_args(&args)?,
            });
        }
    };
    Some(Cli {
        command: Some(command),
        export: ExportArgs::default(),
    })
}

/// `PROFILE` with an optional `--shell S` / `-s S` before or after it.
fn export_args(args: &[String]) -> Option<ExportArgs> {
    let (mut profile, mut shell) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--shell" || arg == "-s" {
            if shell.is_some() {
                return None;
            }
            shell = Some(args.next()?.parse().ok()?);
        } else if arg.starts_with('-') || profile.is_some() {
            return None;
        } else {
            profile = Some(arg.clone());
        }
    }
    Some(ExportArgs {
        target: ProfileArgs {
            profile: Some(profile?),
            auth: AuthArgs::default(),
        },
        shell,
        force: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn argv(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn subcommand_list_is_clap_s() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut clap: Vec<&str> = cmd
            .get_subcommands()
            .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_all_aliases()))
            .collect();
        let mut ours = SUBCOMMANDS.to_vec();
        clap.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, clap);
    }

    #[test]
    fn fast_parse_agrees_with_clap() {
        for line in [
            "mfaenv prod",
            "mfaenv export prod",
            "mfaenv export --shell fish prod",
            "mfaenv export prod -s zsh",
            "mfaenv export status",
            "mfaenv -s json prod",
            "mfaenv prod --shell pwsh",
            "mfaenv prod --shell sh",
            "mfaenv prod -s terragrunt",
            "mfaenv export --shell powershell prod",
            "mfaenv hook-env --shell bash",
            "mfaenv hook-env -s fish",
            "mfaenv hook-env --shell zsh",
        ] {
            let fast = parse_fast(argv(line)).unwrap_or_else(|| panic!("{line}: not fast"));
            let clap = Cli::try_parse_from(argv(line)).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{line}");
        }
    }

    /// aws-vault's `exec PROFILE CMD ARGS…`, with or without `--`; the
    /// command's own flags (even ones mfaenv also has) stay the command's.
    #[test]
    fn exec_command_lines() {
        for (line, profile, command) in [
            ("mfaenv exec prod ls -la", Some("prod"), "ls -la"),
            ("mfaenv exec prod -- ls -la", Some("prod"), "ls -la"),
            ("mfaenv exec -- ls -la", None, "ls -la"),
            ("mfaenv exec --min-ttl 2h -- ls", None, "ls"),
            ("mfaenv exec --min-ttl 2h prod ls", Some("prod"), "ls"),
            ("mfaenv exec prod --min-ttl 2h ls", Some("prod"), "ls"),
            (
                "mfaenv exec prod aws sts get-caller-identity --region eu-west-1",
                Some("prod"),
                "aws sts get-caller-identity --region eu-west-1",
            ),
            ("mfaenv exec prod ls -- -x", Some("prod"), "ls -- -x"),
            (
                "mfaenv exec prod ls --min-ttl 2h",
                Some("prod"),
                "ls --min-ttl 2h",
            ),
            ("mfaenv exec prod sh -c -t", Some("prod"), "sh -c -t"),
        ] {
            let Some(Command::Exec(exec)) = try_parse(argv(line)).unwrap().command else {
                panic!("{line}: not exec");
            };
            let words: Vec<String> = exec
                .command
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            assert_eq!(exec.target.profile.as_deref(), profile, "{line}");
            assert_eq!(words.join(" "), command, "{line}");
        }
        let Some(Command::Exec(exec)) = try_parse(argv("mfaenv exec --min-ttl 2h prod ls"))
            .unwrap()
            .command
        else {
            panic!("not exec");
        };
        assert_eq!(exec.target.auth.min_ttl, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn everything_else_goes_to_clap() {
        for line in [
            "mfaenv",
            "mfaenv status",
            "mfaenv help",
            "mfaenv --version",
            "mfaenv --help",
            "mfaenv export",
            "mfaenv export -h",
            "mfaenv prod -t 123456",
            "mfaenv prod --min-ttl 2h",
            "mfaenv export --shell=bash prod",
            "mfaenv export prod other",
            "mfaenv export -s bash -s zsh prod",
            "mfaenv export --shell nope prod",
            "mfaenv export prod --shell",
            "mfaenv --shell bash status",
            "mfaenv prod --",
            "mfaenv hook-env",
            "mfaenv hook-env --shell nope",
            "mfaenv hook-env --shell bash extra",
            "mfaenv hook-env --shell=bash",
            "mfaenv exec prod -- true",
            "mfaenv exec prod true",
            "mfaenv __profiles -- login",
        ] {
            assert!(parse_fast(argv(line)).is_none(), "{line}");
        }
    }
}
