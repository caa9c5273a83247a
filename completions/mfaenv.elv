
use builtin;
use str;

set edit:completion:arg-completer[mfaenv] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mfaenv'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mfaenv'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand -s 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)'
            cand --shell 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --force 'Print the keys even when stdout is a terminal (refused by default without --shell)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand export 'Print shell code that exports the profile''s temporary credentials'
            cand exec 'Run a command with the profile''s temporary credentials in its environment'
            cand credential-process 'Print credentials as `credential_process` JSON for ~/.aws/config'
            cand login 'Get or refresh the profile''s session into the cache; prints the expiry on stderr'
            cand status 'List cached sessions with the time they have left, and the profile active in this shell'
            cand forget 'Delete cached sessions: those a profile uses, or all of them'
            cand write 'Write the profile''s session into a section of ~/.aws/credentials (default PROFILE-mfa)'
            cand hook 'Print the shell integration that loads a directory''s `.mfaenv` on `cd`'
            cand allow 'Trust a directory''s `.mfaenv` file (this version of it) so the hook loads it'
            cand deny 'Block a directory''s `.mfaenv` file until it is allowed again'
            cand reload 'Make the hook load this directory''s `.mfaenv` again at the next prompt (after a failed load)'
            cand direnv 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`'
            cand hook-env 'The hook''s worker, run by the shell integration (prints shell code)'
            cand __profiles 'The completions'' helper: profile names, when the word after WORDS is a PROFILE'
            cand unset 'Print shell code that removes what mfaenv set and restores what was there'
            cand completions 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)'
            cand plan 'Dry run: show how the profile resolves (keys'' origin, each STS step, region, endpoint, cache); calls nothing'
            cand setup 'Find the MFA device of the profile''s IAM user and record it as mfa_serial in ~/.aws/config'
            cand add 'Store a profile''s long-term keys in the OS keyring or the encrypted file store'
            cand keys 'List the profiles with long-term keys and where they live (never a secret)'
            cand remove 'Delete a profile''s stored keys and its cached sessions'
            cand import 'Move long-term keys from ~/.aws/credentials into the key store'
            cand rotate 'Replace a profile''s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)'
            cand console 'Open the AWS console signed in as the profile (federation sign-in), in your browser'
            cand sso 'IAM Identity Center: write a profile for every account and role a login reaches'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mfaenv;export'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand -s 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)'
            cand --shell 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --force 'Print the keys even when stdout is a terminal (refused by default without --shell)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;exec'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --server 'Stay the parent and serve refreshing credentials to the command on 127.0.0.1 (the container credentials protocol) instead of putting keys in its environment; also MFAENV_SERVER=1 or `mfaenv_server = true` in the profile'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;credential-process'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;login'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --use-device-code 'IAM Identity Center: log in with the device authorization flow (a code to confirm) instead of a redirect to 127.0.0.1'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;status'= {
            cand --json 'Print JSON instead of a table'
            cand --short 'One short line for a prompt (`prod 42m`) from this shell''s environment; nothing when no profile is active'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;forget'= {
            cand --all 'Forget every cached session'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;write'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --to 'The section of the credentials file to write (default: PROFILE-mfa)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;hook'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;allow'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;deny'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;reload'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;direnv'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;hook-env'= {
            cand -s 's'
            cand --shell 'shell'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;__profiles'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;unset'= {
            cand -s 'Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)'
            cand --shell 'Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)'
            cand --all 'Remove every AWS credential variable, also those mfaenv did not set'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;plan'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand -d 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --duration 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;setup'= {
            cand --serial 'The device to record when the user has several (its ARN, as `aws iam list-mfa-devices` shows it)'
            cand --force 'Replace a different mfa_serial the profile already has without asking'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;add'= {
            cand --backend 'Where to keep them (default: MFAENV_BACKEND, else the profile''s key_store, else the keyring when one answers, else the file)'
            cand --env 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mfaenv;keys'= {
            cand --json 'JSON: {"keys": [{"profile", "store", "key_id_last4", "location"}]}'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;remove'= {
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;import'= {
            cand --backend 'Where to keep them (as for `add`)'
            cand --all 'Every profile with long-term keys in the credentials file'
            cand --credential-process 'Also add `credential_process = mfaenv credential-process NAME` to each moved profile''s config section, so the AWS CLI keeps finding its keys'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mfaenv;rotate'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url); IAM''s is AWS_ENDPOINT_URL_IAM'
            cand --all 'Every stored key older than its key_max_age, and every rotation left unfinished'
            cand --dry-run 'Say what would be done; call nothing, change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;console'= {
            cand -t 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --token-code 'The MFA code (else `mfa_process`, else a prompt on the terminal)'
            cand --region 'Region to call STS in and to export (default: the profile''s)'
            cand --endpoint-url 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)'
            cand --min-ttl 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left'
            cand --prompt 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)'
            cand --service 'Land on this service''s console (ec2, s3, iam, lambda, …; see docs/console.md)'
            cand --path 'Land on this console path (e.g. ''/ec2/home?#Instances:''); the region is added'
            cand --browser 'The browser command (default: $BROWSER, else the platform''s opener; with --isolate, a known browser on PATH)'
            cand -d 'How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session''s or GetFederationToken''s length (see docs/console.md)'
            cand --duration 'How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session''s or GetFederationToken''s length (see docs/console.md)'
            cand --direct 'Assume the role with the MFA code directly instead of through an MFA session'
            cand --print 'Print the sign-in URL on stdout instead of opening it (it signs in whoever opens it, for 15 minutes)'
            cand --isolate 'Open the profile in a browser profile of its own (Chromium/Chrome/Edge --user-data-dir, Firefox --profile), so several accounts stay signed in side by side'
            cand --list-browsers 'List the browsers found on PATH (name, family, path) and exit'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;sso'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand populate 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mfaenv;sso;populate'= {
            cand --prefix 'Put this before every profile name'
            cand --use-device-code 'IAM Identity Center: log in with the device authorization flow when a login is needed'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mfaenv;sso;help'= {
            cand populate 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mfaenv;sso;help;populate'= {
        }
        &'mfaenv;sso;help;help'= {
        }
        &'mfaenv;help'= {
            cand export 'Print shell code that exports the profile''s temporary credentials'
            cand exec 'Run a command with the profile''s temporary credentials in its environment'
            cand credential-process 'Print credentials as `credential_process` JSON for ~/.aws/config'
            cand login 'Get or refresh the profile''s session into the cache; prints the expiry on stderr'
            cand status 'List cached sessions with the time they have left, and the profile active in this shell'
            cand forget 'Delete cached sessions: those a profile uses, or all of them'
            cand write 'Write the profile''s session into a section of ~/.aws/credentials (default PROFILE-mfa)'
            cand hook 'Print the shell integration that loads a directory''s `.mfaenv` on `cd`'
            cand allow 'Trust a directory''s `.mfaenv` file (this version of it) so the hook loads it'
            cand deny 'Block a directory''s `.mfaenv` file until it is allowed again'
            cand reload 'Make the hook load this directory''s `.mfaenv` again at the next prompt (after a failed load)'
            cand direnv 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`'
            cand hook-env 'The hook''s worker, run by the shell integration (prints shell code)'
            cand __profiles 'The completions'' helper: profile names, when the word after WORDS is a PROFILE'
            cand unset 'Print shell code that removes what mfaenv set and restores what was there'
            cand completions 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)'
            cand plan 'Dry run: show how the profile resolves (keys'' origin, each STS step, region, endpoint, cache); calls nothing'
            cand setup 'Find the MFA device of the profile''s IAM user and record it as mfa_serial in ~/.aws/config'
            cand add 'Store a profile''s long-term keys in the OS keyring or the encrypted file store'
            cand keys 'List the profiles with long-term keys and where they live (never a secret)'
            cand remove 'Delete a profile''s stored keys and its cached sessions'
            cand import 'Move long-term keys from ~/.aws/credentials into the key store'
            cand rotate 'Replace a profile''s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)'
            cand console 'Open the AWS console signed in as the profile (federation sign-in), in your browser'
            cand sso 'IAM Identity Center: write a profile for every account and role a login reaches'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mfaenv;help;export'= {
        }
        &'mfaenv;help;exec'= {
        }
        &'mfaenv;help;credential-process'= {
        }
        &'mfaenv;help;login'= {
        }
        &'mfaenv;help;status'= {
        }
        &'mfaenv;help;forget'= {
        }
        &'mfaenv;help;write'= {
        }
        &'mfaenv;help;hook'= {
        }
        &'mfaenv;help;allow'= {
        }
        &'mfaenv;help;deny'= {
        }
        &'mfaenv;help;reload'= {
        }
        &'mfaenv;help;direnv'= {
        }
        &'mfaenv;help;hook-env'= {
        }
        &'mfaenv;help;__profiles'= {
        }
        &'mfaenv;help;unset'= {
        }
        &'mfaenv;help;completions'= {
        }
        &'mfaenv;help;plan'= {
        }
        &'mfaenv;help;setup'= {
        }
        &'mfaenv;help;add'= {
        }
        &'mfaenv;help;keys'= {
        }
        &'mfaenv;help;remove'= {
        }
        &'mfaenv;help;import'= {
        }
        &'mfaenv;help;rotate'= {
        }
        &'mfaenv;help;console'= {
        }
        &'mfaenv;help;sso'= {
            cand populate 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote'
        }
        &'mfaenv;help;sso;populate'= {
        }
        &'mfaenv;help;help'= {
        }
    ]
    $completions[$command]
}
