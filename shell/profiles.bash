
# mfaenv: PROFILE completes to the profile names of your AWS config files.
# `mfaenv __profiles -- WORDS` prints them when the word after WORDS is a
# PROFILE (clap decides, so flags and their values are skipped right), and
# nothing otherwise; then the completion above does the rest. It is the
# `mfaenv` on PATH, never the word typed, so TAB cannot run a `./mfaenv` of
# a checkout.
_mfaenv_profiles() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local words=() w i n
    # bash splits `--opt=value` at `=`: join it back for clap.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        n=${#words[@]}
        if ((n > 0)) && [[ $w == "=" || ${words[n - 1]} == *= ]]; then
            words[n - 1]+="$w"
        else
            words+=("$w")
        fi
    done
    local names=""
    if [[ $cur != -* && ${COMP_WORDS[COMP_CWORD - 1]} != "=" ]]; then
        names="$(command mfaenv __profiles -- "${words[@]}" 2>/dev/null)"
    fi
    if [[ -z $names ]]; then
        _mfaenv "$@"
        return
    fi
    # At the top level the subcommands stay; flags wait for a `-`.
    _mfaenv "$@"
    local keep=()
    for w in "${COMPREPLY[@]}"; do
        [[ $w == -* || $w == \[* || $w == __profiles || $w == hook-env ]] || keep+=("$w")
    done
    COMPREPLY=("${keep[@]}")
    # A name goes onto the line quoted for bash (as zsh's compadd does), so
    # `[profile zz$(touch x)]` is never run when the line is entered. What
    # was typed is matched against the name and its quoted form.
    local q
    while IFS= read -r w; do
        printf -v q '%q' "$w"
        [[ $w == "$cur"* || $q == "$cur"* ]] && COMPREPLY+=("$q")
    done <<<"$names"
    return 0
}
