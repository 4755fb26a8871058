#!/usr/bin/env bash
# The system tools the tests need: installed once on Debian/Ubuntu as root, named elsewhere.
#
#   tools/system_deps.sh            install what is missing (make system-deps; make test runs it)
#   tools/system_deps.sh venv       only Python's venv module (make install, before creating .venv)
#   tools/system_deps.sh --dry-run  say what it would install, and install nothing
#
# What the tests need, besides Python and make:
#   the venv module   python3-venv           the project's .venv
#   chromium          chromium               report pages in a real browser
#   pspp              pspp                   SPSS files as PSPP writes them
#   readstat          readstat               SAS files (ReadStat's converter)
#   pdftoppm          poppler-utils          PDF pages as pictures; with it pdftotext,
#                                            pdfimages, pdfinfo (the printed report's tests)
#   Rscript + R packages survival, cmprsk, nlme, haven
#                     r-base-core r-cran-*   estimators checked against R
#   quarto            ../shared/quarto       the report's Quarto path (tests only)
#
# On Debian/Ubuntu as root it runs `apt-get update` and `apt-get install` only
# when something is missing, then Quarto's offline bundle (../shared/quarto,
# when it is there) into .tools/quarto (ignored by git; the tests put its
# dist/bin on the PATH). Elsewhere it stops, before anything runs, with one
# message naming each missing tool and how to get it.
#
# Quarto is the one tool a machine may be unable to get: no quarto on the PATH
# and no ../shared/quarto. Then this script says so and goes on; the tests that
# need Quarto are reported as not run (a failure where CI=true).
#
# Settings (environment): PYTHON (python3), QUARTO_BUNDLE (../shared/quarto),
# QUARTO_DIR (.tools/quarto), OS_RELEASE (/etc/os-release).
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
only_venv=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    venv) only_venv=1 ;;
    *) echo "usage: $0 [--dry-run] [venv]" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python3}
QUARTO_BUNDLE=${QUARTO_BUNDLE:-../shared/quarto}
QUARTO_DIR=${QUARTO_DIR:-.tools/quarto}
OS_RELEASE=${OS_RELEASE:-/etc/os-release}
R_PACKAGES=(survival cmprsk nlme haven)

packages=()  # Debian packages to install
missing=()   # "tool: how to get it", for the message elsewhere

have() { command -v "$1" >/dev/null 2>&1; }
need() {  # need TOOL DEBIAN_PACKAGE HOW_ELSEWHERE
  packages+=("$2")
  missing+=("$1: $3")
}

check_venv() {
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 ||
    need "the venv module of $PYTHON" python3-venv "the python3-venv package, or a Python built with ensurepip"
}

check_test_tools() {
  have chromium || have chromium-browser ||
    need chromium chromium "Chromium as 'chromium' (apt-get/dnf install chromium, brew install --cask chromium)"
  have pspp || need pspp pspp "GNU PSPP (apt-get/dnf install pspp, brew install pspp)"
  have readstat ||
    need readstat readstat "ReadStat's command-line tool (apt-get install readstat, or built from ReadStat's source)"
  have pdftoppm ||
    need pdftoppm poppler-utils "Poppler's utilities (apt-get/dnf install poppler-utils, brew install poppler)"
  local r_missing="${R_PACKAGES[*]}" p
  if have Rscript; then
    r_missing=$(Rscript -e "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '')" \
      "${R_PACKAGES[@]}" 2>/dev/null) || r_missing="${R_PACKAGES[*]}"
  else
    need Rscript r-base-core "R (apt-get install r-base-core, dnf install R, brew install r)"
  fi
  for p in $r_missing; do
    need "the R package $p" "r-cran-$p" "in R: install.packages(\"$p\"), or apt-get install r-cran-$p"
  done
}

# Quarto: the bundle's copy in $QUARTO_DIR (installed again when the bundle
# changes), else one already on the PATH, else the bundle's if this machine
# has it, else none (its tests are then reported as not run).
check_quarto() {
  local stamp=""
  [ -f "$QUARTO_BUNDLE/install.sh" ] &&
    stamp=$(cat "$QUARTO_BUNDLE/install.sh" "$QUARTO_BUNDLE/quarto-src.tgz" | sha256sum)
  if [ -x "$QUARTO_DIR/dist/bin/quarto" ] &&
    { [ -z "$stamp" ] || [ "$(cat "$QUARTO_DIR/.bundle" 2>/dev/null)" = "$stamp" ]; }; then
    quarto_note="quarto: $QUARTO_DIR"
  elif [ -n "$stamp" ] && ! have quarto; then
    quarto_stamp=$stamp
    quarto_note="quarto: from $QUARTO_BUNDLE into $QUARTO_DIR"
    have npm || need npm npm "Node.js's npm, with which Quarto's bundle installs its tools (apt-get install npm)"
  elif have quarto; then
    quarto_note="quarto: $(command -v quarto)"
  else
    quarto_note="quarto: NOT AVAILABLE here (not on the PATH, no $QUARTO_BUNDLE): its tests will be reported as not run"
  fi
}

quarto_stamp=""  # set when Quarto is to be installed from the bundle
purpose="arr-stats's tests"
check_venv
if [ $only_venv = 1 ]; then
  purpose="arr-stats's .venv and make install"
else
  check_test_tools
  check_quarto
fi

debian_like() {
  [ -r "$OS_RELEASE" ] || return 1
  # shellcheck disable=SC1090
  ( . "$OS_RELEASE"; case " ${ID:-} ${ID_LIKE:-} " in *" debian "* | *" ubuntu "*) exit 0 ;; *) exit 1 ;; esac )
}

if [ ${#packages[@]} -gt 0 ]; then
  if ! debian_like || [ "$(id -u)" != 0 ] || ! have apt-get; then
    where="this machine is not Debian/Ubuntu"
    debian_like && where="not root: run 'sudo make system-deps' to install them with apt-get"
    {
      echo "$purpose need these system tools, missing here ($where):"
      for m in "${missing[@]}"; do echo "  - $m"; done
    } >&2
    exit 1
  fi
  run() { if [ $dry_run = 1 ]; then echo "would run: $*"; else "$@"; fi; }
  started=$SECONDS
  echo "system tools: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  run apt-get update -qq
  run apt-get install -y -qq --no-install-recommends "${packages[@]}"
  echo "system tools: apt-get took $((SECONDS - started)) s"
fi

if [ -n "$quarto_stamp" ]; then
  if [ $dry_run = 1 ]; then
    echo "would run: bash $QUARTO_BUNDLE/install.sh $QUARTO_DIR"
  else
    started=$SECONDS
    echo "system tools: installing Quarto from $QUARTO_BUNDLE into $QUARTO_DIR (log: $QUARTO_DIR.log)"
    rm -rf "$QUARTO_DIR" && mkdir -p "$QUARTO_DIR"
    # The bundle runs `python -m pip`, which Debian's python3 lacks (python3-pip):
    # a venv of its own has pip.
    venv_python="$(cd "$QUARTO_DIR" && pwd)/python/bin/python"  # the bundle cd's: absolute
    if ! { "$PYTHON" -m venv "$QUARTO_DIR/python" &&
      PYTHON=$venv_python bash "$QUARTO_BUNDLE/install.sh" "$QUARTO_DIR"; } \
      >"$QUARTO_DIR.log" 2>&1; then
      tail -20 "$QUARTO_DIR.log" >&2
      echo "system tools: Quarto's install failed; the whole log is $QUARTO_DIR.log" >&2
      exit 1
    fi
    echo "$quarto_stamp" >"$QUARTO_DIR/.bundle"
    echo "system tools: Quarto took $((SECONDS - started)) s"
  fi
fi
[ $only_venv = 1 ] && exit 0
[ $dry_run = 1 ] && exit 0
echo "system tools: chromium, pspp, readstat, pdftoppm, R (${R_PACKAGES[*]}) present; $quarto_note"
