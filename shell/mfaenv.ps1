# mfaenv shell integration for PowerShell 7 and Windows PowerShell 5.1.
# In $PROFILE:
#   Invoke-Expression (& mfaenv hook pwsh | Out-String)
#
# The prompt wrapper (and, from PowerShell 7, LocationChangedAction) runs
# `mfaenv hook-env` only when the location changed, a loaded session nears
# expiry, or `mfaenv allow|deny|login|reload` touched the stamp file; the clock and
# the stamp are read in-process, so an idle prompt starts no process.
# Everything mfaenv prints for PowerShell is ASCII: no code page garbles it.

$global:_MfaenvStampFile = @STAMP@
# Declared, so that Set-StrictMode finds them; reset, so a reload looks again.
$global:_MfaenvPwd = $null
$global:_MfaenvStamp = $null

function global:_MfaenvHook {
    $here = $ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath
    $stamp = 0
    if ($global:_MfaenvStampFile) {
        try { $stamp = [System.IO.File]::GetLastWriteTimeUtc($global:_MfaenvStampFile).Ticks } catch { }
    }
    $refreshAt = [long]0
    $due = [long]::TryParse([string]$env:MFAENV_REFRESH_AT, [ref]$refreshAt) -and
        ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() -ge $refreshAt)
    # -cne: a directory differing only in case is another one on Linux.
    if (($here -cne $global:_MfaenvPwd) -or ($stamp -ne $global:_MfaenvStamp) -or $due) {
        $global:_MfaenvPwd = $here
        $global:_MfaenvStamp = $stamp
        _MfaenvApply $here
    }
}

# Runs `mfaenv hook-env` and applies what it printed. The native call sets
# $LASTEXITCODE, also inside a script whose Set-Location fired the hook, so
# the caller's value is put back. PowerShell never sets $env:PWD; for the
# call it names the location as the user reached it (through symlinks).
function global:_MfaenvApply([string]$here) {
    $hadExitCode = Test-Path -LiteralPath variable:global:LASTEXITCODE
    $exitCode = if ($hadExitCode) { $global:LASTEXITCODE } else { 0 }
    $oldPwd = $env:PWD
    try {
        $env:PWD = $here
        $code = & @MFAENV@ hook-env --shell pwsh | Out-String
    } finally {
        $env:PWD = $oldPwd
        if ($hadExitCode) {
            $global:LASTEXITCODE = $exitCode
        } else {
            Remove-Variable -Name LASTEXITCODE -Scope Global -ErrorAction Ignore
        }
    }
    if ($code) { _MfaenvEval $code }
}

# Applies captured output with Ctrl-C held back, so it cannot stop halfway.
# Only here, not around the native call: on Windows TreatControlCAsInput
# turns off processed input, which the MFA prompt's line editing needs, and
# it throws when stdin is not a console.
function global:_MfaenvEval([string]$code) {
    $guarded = $false
    try {
        if (-not [Console]::IsInputRedirected) {
            try {
                $treatCtrlC = [Console]::TreatControlCAsInput
                [Console]::TreatControlCAsInput = $true
                $guarded = $true
            } catch { }
        }
        Invoke-Expression $code
    } finally {
        if ($guarded) { [Console]::TreatControlCAsInput = $treatCtrlC }
    }
}

# In a child scope, so that nothing below lands in the caller's variables.
& {
    # The prompt: the hook, then the prompt that was there before, which gets
    # the user's $? back (a Write-Error that fails without adding to $Error)
    # and $LASTEXITCODE untouched. Each wrapper holds its own previous prompt,
    # so wrapping a prompt that wraps ours again cannot recurse forever.
    $wrapper = {
        $status = $global:?
        $null = _MfaenvHook
        if (-not $status) { Write-Error -Message 'mfaenv' -ErrorAction Ignore }
        & $previous
    }
    # Sourcing twice leaves our prompt alone; a reload that replaced it
    # (starship, oh-my-posh, a profile) gets it wrapped again.
    if ([string]$function:prompt -cne [string]$wrapper) {
        $previous = $function:prompt
        if (-not $previous) {
            $previous = { "PS $($ExecutionContext.SessionState.Path.CurrentLocation)$('>' * ($NestedPromptLevel + 1)) " }
        }
        ${function:global:prompt} = $wrapper.GetNewClosure()
    }

    # Set-, Push- and Pop-Location: PowerShell 6.1 added LocationChangedAction,
    # and 5.1 has none (there the prompt alone does it). The property holds a
    # delegate, so ours is combined with whatever zoxide, direnv or mise put
    # there, once.
    if ($PSVersionTable.PSVersion.Major -ge 7) {
        if (-not (Test-Path -LiteralPath variable:global:_MfaenvLocationAction)) {
            $global:_MfaenvLocationAction = [EventHandler[System.Management.Automation.LocationChangedEventArgs]] {
                param($source, $changed)
                $null = _MfaenvHook
            }
        }
        $current = $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction
        if (-not $current -or $current.GetInvocationList() -notcontains $global:_MfaenvLocationAction) {
            $ExecutionContext.SessionState.InvokeCommand.LocationChangedAction =
                [Delegate]::Combine($current, $global:_MfaenvLocationAction)
        }
    }
}
