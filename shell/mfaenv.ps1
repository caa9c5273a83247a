# mfaenv shell integration for PowerShell 7. In $PROFILE:
#   Invoke-Expression (& mfaenv hook pwsh | Out-String)
#
# The prompt wrapper and LocationChangedAction run `mfaenv hook-env` only
# when the location changed or a loaded session nears expiry; the clock is
# read in-process, so an idle prompt starts no process.

$env:MFAENV_SHELL = 'pwsh'

function global:_MfaenvHook {
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $refreshAt = $env:MFAENV_REFRESH_AT
    $due = $refreshAt -and ($now -ge [long]$refreshAt)
    if (($global:_MfaenvPwd -ne $PWD.ProviderPath) -or $due) {
        $global:_MfaenvPwd = $PWD.ProviderPath
        $treatCtrlC = [Console]::TreatControlCAsInput
        try {
            [Console]::TreatControlCAsInput = $true
            $code = & @MFAENV@ hook-env --shell pwsh | Out-String
            if ($code) { Invoke-Expression $code }
        } finally {
            [Console]::TreatControlCAsInput = $treatCtrlC
        }
    }
}

# Wrap the prompt once, however often this is sourced.
if (-not (Test-Path variable:global:_MfaenvOriginalPrompt)) {
    $global:_MfaenvOriginalPrompt = $function:prompt
    function global:prompt {
        $previousExitCode = $global:LASTEXITCODE
        _MfaenvHook
        $global:LASTEXITCODE = $previousExitCode
        & $global:_MfaenvOriginalPrompt
    }
    $global:_MfaenvOriginalLocationAction = $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction
    $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction = {
        param($sender, $eventArgs)
        if ($global:_MfaenvOriginalLocationAction) { & $global:_MfaenvOriginalLocationAction $sender $eventArgs }
        _MfaenvHook
    }
}

function global:mfaenv {
    & @MFAENV@ @args
    $exitCode = $LASTEXITCODE
    if ($args.Count -gt 0 -and @('allow', 'deny', 'login') -contains $args[0]) {
        $global:_MfaenvPwd = $null
    }
    $global:LASTEXITCODE = $exitCode
}
