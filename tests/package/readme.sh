# Sourced by the package tests: the commands of debian/README.Debian, as an
# administrator copies them, indentation included (a heredoc terminator copied
# with its blanks never ends the heredoc; the tests must see that).
# A section is a title line at column 0 underlined with dashes; a numbered step
# starts at "N. " in column 0; a command is a line indented five blanks or more
# (prose is indented three).

# readme_commands README SECTION-TITLE [STEP]: the command lines, in order.
readme_commands() {
    awk -v title="$2" -v step="${3:-}" '
        { line[NR] = $0 }
        END {
            for (i = 1; i < NR; i++) {
                if (line[i] != title || line[i + 1] !~ /^-+$/) continue
                in_step = (step == "")
                for (j = i + 2; j <= NR; j++) {
                    if (line[j] ~ /^[^ ]/ && line[j + 1] ~ /^-+$/) break   # the next section
                    if (step != "" && line[j] ~ /^[0-9]+\. /) in_step = (index(line[j], step ". ") == 1)
                    if (in_step && line[j] ~ /^     /) { print line[j]; found = 1 }
                }
            }
            exit !found
        }' "$1"
}
