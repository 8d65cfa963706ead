#!/usr/bin/env bash
# Installs the pinned Claude Code CLI into a cache directory OUTSIDE the project, for the integration
# tests that drive the real CLI against a local fake of the Messages API (test/support/fakeAnthropic.ts).
# It is test infrastructure, never a dependency of agenthost.
#
#   bash .ci/install-claude.sh [DIR]
#
# DIR defaults to "${AGENTHOST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agenthost-ci}/claude-code-<version>",
# the place test/support/claudeBinary.ts looks. Idempotent: a second run with a working install only
# checks it. npm's chatter goes to stderr; the LAST stdout line is the path of the binary, so
#   AGENTHOST_CLAUDE_BIN="$(bash .ci/install-claude.sh | tail -n 1)"
# works.
set -euo pipefail

# Pinned: on Node 20 an unpinned install silently resolves to 2.1.197 (the last release whose `engines`
# allows Node 20). 2.1.332 installs with an EBADENGINE warning and runs fine: it is a native executable.
VERSION=2.1.332
DIR="${1:-${AGENTHOST_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agenthost-ci}/claude-code-$VERSION}"
# A stable name for whichever binary works; its existence (and a good --version) marks a finished install.
LINK="$DIR/claude"

works() {
  local out
  out="$("$1" --version 2>/dev/null)" || return 1
  [[ "$out" == "$VERSION "* ]]
}

if [ -x "$LINK" ] && works "$LINK"; then
  echo "claude $VERSION already installed in $DIR" >&2
  echo "$LINK"
  exit 0
fi

mkdir -p "$DIR"
start=$(date +%s)
echo "installing @anthropic-ai/claude-code@$VERSION into $DIR" >&2
npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund \
  "@anthropic-ai/claude-code@$VERSION" >&2

# Normally the package's postinstall hard-links the platform binary over bin/claude.exe. When install
# scripts are blocked (--ignore-scripts, npm's allowScripts) bin/claude.exe stays a shell placeholder that
# prints an error; the binary from the platform optionalDependency is the same file and runs directly.
target=""
for candidate in "$DIR/node_modules/@anthropic-ai/claude-code/bin/claude.exe" \
  "$DIR"/node_modules/@anthropic-ai/claude-code-*/claude; do
  if [ -f "$candidate" ] && works "$candidate"; then
    target="$candidate"
    break
  fi
done
if [ -z "$target" ]; then
  echo "error: no working claude $VERSION binary under $DIR/node_modules/@anthropic-ai" \
    "(is the platform package @anthropic-ai/claude-code-<os>-<arch> missing? --omit=optional?)" >&2
  exit 1
fi

ln -sfn "${target#"$DIR"/}" "$LINK"
echo "installed claude $VERSION in $(($(date +%s) - start)) s ($(du -sh "$DIR" | cut -f1)); binary $target" >&2
echo "$LINK"
