# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mfaenv_global_optspecs
    string join \n t/token-code= region= endpoint-url= direct min-ttl= d/duration= prompt= s/shell= force h/help V/version
end

function __fish_mfaenv_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mfaenv_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mfaenv_using_subcommand
    set -l cmd (__fish_mfaenv_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mfaenv -n "__fish_mfaenv_needs_command" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_needs_command" -s s -l shell -d 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)' -r -f -a "bash\t''
zsh\t''
fish\t''
pwsh\t''
json\t''
dotenv\t''
terragrunt\t''"
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -l force -d 'Print the keys even when stdout is a terminal (refused by default without --shell)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -s V -l version -d 'Print version'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "export" -d 'Print shell code that exports the profile\'s temporary credentials'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "exec" -d 'Run a command with the profile\'s temporary credentials in its environment'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "credential-process" -d 'Print credentials as `credential_process` JSON for ~/.aws/config'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "login" -d 'Get or refresh the profile\'s session into the cache; prints the expiry on stderr'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "status" -d 'List cached sessions with the time they have left, and the profile active in this shell'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "forget" -d 'Delete cached sessions: those a profile uses, or all of them'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "write" -d 'Write the profile\'s session into a section of ~/.aws/credentials (default PROFILE-mfa)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "hook" -d 'Print the shell integration that loads a directory\'s `.mfaenv` on `cd`'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "allow" -d 'Trust a directory\'s `.mfaenv` file (this version of it) so the hook loads it'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "deny" -d 'Block a directory\'s `.mfaenv` file until it is allowed again'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "reload" -d 'Make the hook load this directory\'s `.mfaenv` again at the next prompt (after a failed load)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "direnv" -d 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "hook-env" -d 'The hook\'s worker, run by the shell integration (prints shell code)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "__profiles" -d 'The completions\' helper: profile names, when the word after WORDS is a PROFILE'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "unset" -d 'Print shell code that removes what mfaenv set and restores what was there'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "completions" -d 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "plan" -d 'Dry run: show how the profile resolves (keys\' origin, each STS step, region, endpoint, cache); calls nothing'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "setup" -d 'Find the MFA device of the profile\'s IAM user and record it as mfa_serial in ~/.aws/config'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "add" -d 'Store a profile\'s long-term keys in the OS keyring or the encrypted file store'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "keys" -d 'List the profiles with long-term keys and where they live (never a secret)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "remove" -d 'Delete a profile\'s stored keys and its cached sessions'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "import" -d 'Move long-term keys from ~/.aws/credentials into the key store'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "rotate" -d 'Replace a profile\'s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "console" -d 'Open the AWS console signed in as the profile (federation sign-in), in your browser'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "sso" -d 'IAM Identity Center: write a profile for every account and role a login reaches'
complete -c mfaenv -n "__fish_mfaenv_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -s s -l shell -d 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)' -r -f -a "bash\t''
zsh\t''
fish\t''
pwsh\t''
json\t''
dotenv\t''
terragrunt\t''"
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -l force -d 'Print the keys even when stdout is a terminal (refused by default without --shell)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand export" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -l server -d 'Stay the parent and serve refreshing credentials to the command on 127.0.0.1 (the container credentials protocol) instead of putting keys in its environment; also MFAENV_SERVER=1 or `mfaenv_server = true` in the profile'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand exec" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -l use-device-code -d 'IAM Identity Center: log in with the device authorization flow (a code to confirm) instead of a redirect to 127.0.0.1'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand login" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand status" -l json -d 'Print JSON instead of a table'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand status" -l short -d 'One short line for a prompt (`prod 42m`) from this shell\'s environment; nothing when no profile is active'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand status" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand forget" -l all -d 'Forget every cached session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand forget" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l to -d 'The section of the credentials file to write (default: PROFILE-mfa)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand write" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand hook" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand allow" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand deny" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand reload" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand direnv" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand hook-env" -s s -l shell -r -f -a "bash\t''
zsh\t''
fish\t''
pwsh\t''
json\t''
dotenv\t''
terragrunt\t''"
complete -c mfaenv -n "__fish_mfaenv_using_subcommand hook-env" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand __profiles" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand unset" -s s -l shell -d 'Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)' -r -f -a "bash\t''
zsh\t''
fish\t''
pwsh\t''
json\t''
dotenv\t''
terragrunt\t''"
complete -c mfaenv -n "__fish_mfaenv_using_subcommand unset" -l all -d 'Remove every AWS credential variable, also those mfaenv did not set'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand unset" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -s d -l duration -d 'How long new credentials last (aws-vault\'s --duration): the role\'s DurationSeconds, or the MFA session\'s for a profile without a role' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -l json -d 'Print JSON instead of text'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand plan" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand setup" -l serial -d 'The device to record when the user has several (its ARN, as `aws iam list-mfa-devices` shows it)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand setup" -l force -d 'Replace a different mfa_serial the profile already has without asking'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand setup" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand add" -l backend -d 'Where to keep them (default: MFAENV_BACKEND, else the profile\'s key_store, else the keyring when one answers, else the file)' -r -f -a "keyring\t'The OS keyring (Secret Service, macOS Keychain, Windows Credential Manager)'
file\t'The encrypted file store under the data dir'"
complete -c mfaenv -n "__fish_mfaenv_using_subcommand add" -l env -d 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand keys" -l json -d 'JSON: {"keys": [{"profile", "store", "key_id_last4", "location"}]}'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand keys" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand remove" -s y -l yes -d 'Do not ask for confirmation'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand remove" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand import" -l backend -d 'Where to keep them (as for `add`)' -r -f -a "keyring\t'The OS keyring (Secret Service, macOS Keychain, Windows Credential Manager)'
file\t'The encrypted file store under the data dir'"
complete -c mfaenv -n "__fish_mfaenv_using_subcommand import" -l all -d 'Every profile with long-term keys in the credentials file'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand import" -l credential-process -d 'Also add `credential_process = mfaenv credential-process NAME` to each moved profile\'s config section, so the AWS CLI keeps finding its keys'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -l region -d 'Region to call STS in (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url); IAM\'s is AWS_ENDPOINT_URL_IAM' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -l all -d 'Every stored key older than its key_max_age, and every rotation left unfinished'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -l dry-run -d 'Say what would be done; call nothing, change nothing'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -s t -l token-code -d 'The MFA code (else `mfa_process`, else a prompt on the terminal)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l region -d 'Region to call STS in and to export (default: the profile\'s)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l endpoint-url -d 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile\'s endpoint_url)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l min-ttl -d 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l prompt -d 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile\'s mfa_prompt, else auto)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l service -d 'Land on this service\'s console (ec2, s3, iam, lambda, …; see docs/console.md)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l path -d 'Land on this console path (e.g. \'/ec2/home?#Instances:\'); the region is added' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l browser -d 'The browser command (default: $BROWSER, else the platform\'s opener; with --isolate, a known browser on PATH)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -s d -l duration -d 'How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session\'s or GetFederationToken\'s length (see docs/console.md)' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l direct -d 'Assume the role with the MFA code directly instead of through an MFA session'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l print -d 'Print the sign-in URL on stdout instead of opening it (it signs in whoever opens it, for 15 minutes)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l isolate -d 'Open the profile in a browser profile of its own (Chromium/Chrome/Edge --user-data-dir, Firefox --profile), so several accounts stay signed in side by side'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -l list-browsers -d 'List the browsers found on PATH (name, family, path) and exit'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand console" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and not __fish_seen_subcommand_from populate help" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and not __fish_seen_subcommand_from populate help" -f -a "populate" -d 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and not __fish_seen_subcommand_from populate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and __fish_seen_subcommand_from populate" -l prefix -d 'Put this before every profile name' -r
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and __fish_seen_subcommand_from populate" -l use-device-code -d 'IAM Identity Center: log in with the device authorization flow when a login is needed'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and __fish_seen_subcommand_from populate" -s h -l help -d 'Print help'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "populate" -d 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "export" -d 'Print shell code that exports the profile\'s temporary credentials'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "exec" -d 'Run a command with the profile\'s temporary credentials in its environment'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "credential-process" -d 'Print credentials as `credential_process` JSON for ~/.aws/config'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "login" -d 'Get or refresh the profile\'s session into the cache; prints the expiry on stderr'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "status" -d 'List cached sessions with the time they have left, and the profile active in this shell'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "forget" -d 'Delete cached sessions: those a profile uses, or all of them'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "write" -d 'Write the profile\'s session into a section of ~/.aws/credentials (default PROFILE-mfa)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "hook" -d 'Print the shell integration that loads a directory\'s `.mfaenv` on `cd`'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "allow" -d 'Trust a directory\'s `.mfaenv` file (this version of it) so the hook loads it'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "deny" -d 'Block a directory\'s `.mfaenv` file until it is allowed again'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "reload" -d 'Make the hook load this directory\'s `.mfaenv` again at the next prompt (after a failed load)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "direnv" -d 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "hook-env" -d 'The hook\'s worker, run by the shell integration (prints shell code)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "__profiles" -d 'The completions\' helper: profile names, when the word after WORDS is a PROFILE'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "unset" -d 'Print shell code that removes what mfaenv set and restores what was there'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "completions" -d 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "plan" -d 'Dry run: show how the profile resolves (keys\' origin, each STS step, region, endpoint, cache); calls nothing'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "setup" -d 'Find the MFA device of the profile\'s IAM user and record it as mfa_serial in ~/.aws/config'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "add" -d 'Store a profile\'s long-term keys in the OS keyring or the encrypted file store'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "keys" -d 'List the profiles with long-term keys and where they live (never a secret)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "remove" -d 'Delete a profile\'s stored keys and its cached sessions'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "import" -d 'Move long-term keys from ~/.aws/credentials into the key store'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "rotate" -d 'Replace a profile\'s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "console" -d 'Open the AWS console signed in as the profile (federation sign-in), in your browser'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "sso" -d 'IAM Identity Center: write a profile for every account and role a login reaches'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and not __fish_seen_subcommand_from export exec credential-process login status forget write hook allow deny reload direnv hook-env __profiles unset completions plan setup add keys remove import rotate console sso help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfaenv -n "__fish_mfaenv_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "populate" -d 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'

# mfaenv: PROFILE completes to the profile names of your AWS config files.
# `mfaenv __profiles -- WORDS` prints them when the word after WORDS is a
# PROFILE (clap decides), and nothing otherwise. It is the `mfaenv` on PATH,
# never the word typed, so TAB cannot run a `./mfaenv` of a checkout.
function __mfaenv_wants_profile
    set -l words (commandline -opc)
    set -e words[1]
    set -g __mfaenv_profile_names (command mfaenv __profiles -- $words 2>/dev/null)
    set -q __mfaenv_profile_names[1]
end

function __mfaenv_profile_names
    printf '%s\n' $__mfaenv_profile_names
end

complete -c mfaenv -n __mfaenv_wants_profile -f -a '(__mfaenv_profile_names)' -d 'AWS profile'
