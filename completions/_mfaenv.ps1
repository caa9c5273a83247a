
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mfaenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mfaenv'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mfaenv' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Print the keys even when stdout is a terminal (refused by default without --shell)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print shell code that exports the profile''s temporary credentials')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with the profile''s temporary credentials in its environment')
            [CompletionResult]::new('credential-process', 'credential-process', [CompletionResultType]::ParameterValue, 'Print credentials as `credential_process` JSON for ~/.aws/config')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Get or refresh the profile''s session into the cache; prints the expiry on stderr')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List cached sessions with the time they have left, and the profile active in this shell')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Delete cached sessions: those a profile uses, or all of them')
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Write the profile''s session into a section of ~/.aws/credentials (default PROFILE-mfa)')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Print the shell integration that loads a directory''s `.mfaenv` on `cd`')
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Trust a directory''s `.mfaenv` file (this version of it) so the hook loads it')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Block a directory''s `.mfaenv` file until it is allowed again')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Make the hook load this directory''s `.mfaenv` again at the next prompt (after a failed load)')
            [CompletionResult]::new('direnv', 'direnv', [CompletionResultType]::ParameterValue, 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`')
            [CompletionResult]::new('hook-env', 'hook-env', [CompletionResultType]::ParameterValue, 'The hook''s worker, run by the shell integration (prints shell code)')
            [CompletionResult]::new('__profiles', '__profiles', [CompletionResultType]::ParameterValue, 'The completions'' helper: profile names, when the word after WORDS is a PROFILE')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Print shell code that removes what mfaenv set and restores what was there')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Dry run: show how the profile resolves (keys'' origin, each STS step, region, endpoint, cache); calls nothing')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Find the MFA device of the profile''s IAM user and record it as mfa_serial in ~/.aws/config')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store a profile''s long-term keys in the OS keyring or the encrypted file store')
            [CompletionResult]::new('keys', 'keys', [CompletionResultType]::ParameterValue, 'List the profiles with long-term keys and where they live (never a secret)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a profile''s stored keys and its cached sessions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Move long-term keys from ~/.aws/credentials into the key store')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a profile''s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)')
            [CompletionResult]::new('console', 'console', [CompletionResultType]::ParameterValue, 'Open the AWS console signed in as the profile (federation sign-in), in your browser')
            [CompletionResult]::new('sso', 'sso', [CompletionResultType]::ParameterValue, 'IAM Identity Center: write a profile for every account and role a login reaches')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mfaenv;export' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json, dotenv or terragrunt (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Print the keys even when stdout is a terminal (refused by default without --shell)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;exec' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Stay the parent and serve refreshing credentials to the command on 127.0.0.1 (the container credentials protocol) instead of putting keys in its environment; also MFAENV_SERVER=1 or `mfaenv_server = true` in the profile')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;credential-process' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;login' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--use-device-code', '--use-device-code', [CompletionResultType]::ParameterName, 'IAM Identity Center: log in with the device authorization flow (a code to confirm) instead of a redirect to 127.0.0.1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;status' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--short', '--short', [CompletionResultType]::ParameterName, 'One short line for a prompt (`prod 42m`) from this shell''s environment; nothing when no profile is active')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;forget' {
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Forget every cached session')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;write' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The section of the credentials file to write (default: PROFILE-mfa)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;hook' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;allow' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;deny' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;reload' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;direnv' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;hook-env' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 's')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'shell')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;__profiles' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;unset' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Output: bash, zsh, fish, pwsh, json or dotenv (default: the shell that runs mfaenv, else $SHELL)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Remove every AWS credential variable, also those mfaenv did not set')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;plan' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long new credentials last (aws-vault''s --duration): the role''s DurationSeconds, or the MFA session''s for a profile without a role')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;setup' {
            [CompletionResult]::new('--serial', '--serial', [CompletionResultType]::ParameterName, 'The device to record when the user has several (its ARN, as `aws iam list-mfa-devices` shows it)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a different mfa_serial the profile already has without asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;add' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where to keep them (default: MFAENV_BACKEND, else the profile''s key_store, else the keyring when one answers, else the file)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mfaenv;keys' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON: {"keys": [{"profile", "store", "key_id_last4", "location"}]}')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;remove' {
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;import' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where to keep them (as for `add`)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every profile with long-term keys in the credentials file')
            [CompletionResult]::new('--credential-process', '--credential-process', [CompletionResultType]::ParameterName, 'Also add `credential_process = mfaenv credential-process NAME` to each moved profile''s config section, so the AWS CLI keeps finding its keys')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mfaenv;rotate' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url); IAM''s is AWS_ENDPOINT_URL_IAM')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every stored key older than its key_max_age, and every rotation left unfinished')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be done; call nothing, change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;console' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--token-code', '--token-code', [CompletionResultType]::ParameterName, 'The MFA code (else `mfa_process`, else a prompt on the terminal)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region to call STS in and to export (default: the profile''s)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'STS endpoint (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile''s endpoint_url)')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Guarantee at least this long before expiry (e.g. 2h); re-authenticates when less is left')
            [CompletionResult]::new('--prompt', '--prompt', [CompletionResultType]::ParameterName, 'How to ask for a code when one is needed: auto, terminal, pinentry[-NAME], zenity, kdialog, osascript, wincred (default: MFAENV_PROMPT, the profile''s mfa_prompt, else auto)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Land on this service''s console (ec2, s3, iam, lambda, …; see docs/console.md)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Land on this console path (e.g. ''/ec2/home?#Instances:''); the region is added')
            [CompletionResult]::new('--browser', '--browser', [CompletionResultType]::ParameterName, 'The browser command (default: $BROWSER, else the platform''s opener; with --isolate, a known browser on PATH)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session''s or GetFederationToken''s length (see docs/console.md)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the console session lasts: SessionDuration for a role assumed directly with long-term keys, else the role session''s or GetFederationToken''s length (see docs/console.md)')
            [CompletionResult]::new('--direct', '--direct', [CompletionResultType]::ParameterName, 'Assume the role with the MFA code directly instead of through an MFA session')
            [CompletionResult]::new('--print', '--print', [CompletionResultType]::ParameterName, 'Print the sign-in URL on stdout instead of opening it (it signs in whoever opens it, for 15 minutes)')
            [CompletionResult]::new('--isolate', '--isolate', [CompletionResultType]::ParameterName, 'Open the profile in a browser profile of its own (Chromium/Chrome/Edge --user-data-dir, Firefox --profile), so several accounts stay signed in side by side')
            [CompletionResult]::new('--list-browsers', '--list-browsers', [CompletionResultType]::ParameterName, 'List the browsers found on PATH (name, family, path) and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;sso' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('populate', 'populate', [CompletionResultType]::ParameterValue, 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mfaenv;sso;populate' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put this before every profile name')
            [CompletionResult]::new('--use-device-code', '--use-device-code', [CompletionResultType]::ParameterName, 'IAM Identity Center: log in with the device authorization flow when a login is needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mfaenv;sso;help' {
            [CompletionResult]::new('populate', 'populate', [CompletionResultType]::ParameterValue, 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mfaenv;sso;help;populate' {
            break
        }
        'mfaenv;sso;help;help' {
            break
        }
        'mfaenv;help' {
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print shell code that exports the profile''s temporary credentials')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with the profile''s temporary credentials in its environment')
            [CompletionResult]::new('credential-process', 'credential-process', [CompletionResultType]::ParameterValue, 'Print credentials as `credential_process` JSON for ~/.aws/config')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Get or refresh the profile''s session into the cache; prints the expiry on stderr')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List cached sessions with the time they have left, and the profile active in this shell')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Delete cached sessions: those a profile uses, or all of them')
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Write the profile''s session into a section of ~/.aws/credentials (default PROFILE-mfa)')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Print the shell integration that loads a directory''s `.mfaenv` on `cd`')
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Trust a directory''s `.mfaenv` file (this version of it) so the hook loads it')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Block a directory''s `.mfaenv` file until it is allowed again')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Make the hook load this directory''s `.mfaenv` again at the next prompt (after a failed load)')
            [CompletionResult]::new('direnv', 'direnv', [CompletionResultType]::ParameterValue, 'Print a direnv library so `.envrc` can say `use mfaenv PROFILE`')
            [CompletionResult]::new('hook-env', 'hook-env', [CompletionResultType]::ParameterValue, 'The hook''s worker, run by the shell integration (prints shell code)')
            [CompletionResult]::new('__profiles', '__profiles', [CompletionResultType]::ParameterValue, 'The completions'' helper: profile names, when the word after WORDS is a PROFILE')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Print shell code that removes what mfaenv set and restores what was there')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for mfaenv (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Dry run: show how the profile resolves (keys'' origin, each STS step, region, endpoint, cache); calls nothing')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Find the MFA device of the profile''s IAM user and record it as mfa_serial in ~/.aws/config')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store a profile''s long-term keys in the OS keyring or the encrypted file store')
            [CompletionResult]::new('keys', 'keys', [CompletionResultType]::ParameterValue, 'List the profiles with long-term keys and where they live (never a secret)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a profile''s stored keys and its cached sessions')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Move long-term keys from ~/.aws/credentials into the key store')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a profile''s long-term key with a new one (one MFA code; the old key is deleted only once the new one works)')
            [CompletionResult]::new('console', 'console', [CompletionResultType]::ParameterValue, 'Open the AWS console signed in as the profile (federation sign-in), in your browser')
            [CompletionResult]::new('sso', 'sso', [CompletionResultType]::ParameterValue, 'IAM Identity Center: write a profile for every account and role a login reaches')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mfaenv;help;export' {
            break
        }
        'mfaenv;help;exec' {
            break
        }
        'mfaenv;help;credential-process' {
            break
        }
        'mfaenv;help;login' {
            break
        }
        'mfaenv;help;status' {
            break
        }
        'mfaenv;help;forget' {
            break
        }
        'mfaenv;help;write' {
            break
        }
        'mfaenv;help;hook' {
            break
        }
        'mfaenv;help;allow' {
            break
        }
        'mfaenv;help;deny' {
            break
        }
        'mfaenv;help;reload' {
            break
        }
        'mfaenv;help;direnv' {
            break
        }
        'mfaenv;help;hook-env' {
            break
        }
        'mfaenv;help;__profiles' {
            break
        }
        'mfaenv;help;unset' {
            break
        }
        'mfaenv;help;completions' {
            break
        }
        'mfaenv;help;plan' {
            break
        }
        'mfaenv;help;setup' {
            break
        }
        'mfaenv;help;add' {
            break
        }
        'mfaenv;help;keys' {
            break
        }
        'mfaenv;help;remove' {
            break
        }
        'mfaenv;help;import' {
            break
        }
        'mfaenv;help;rotate' {
            break
        }
        'mfaenv;help;console' {
            break
        }
        'mfaenv;help;sso' {
            [CompletionResult]::new('populate', 'populate', [CompletionResultType]::ParameterValue, 'Write a profile into ~/.aws/config for every account and role the [sso-session SESSION] login reaches; a re-run updates and removes only the profiles it wrote')
            break
        }
        'mfaenv;help;sso;populate' {
            break
        }
        'mfaenv;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
