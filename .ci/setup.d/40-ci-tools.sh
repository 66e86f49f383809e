# npm-groovy-lint (and the Java 17 it runs on) for the CI generator's Jenkinsfile test. Optional:
# without npm, or if an install fails, that one test skips with its reason; CI goes on.
if ! command -v npm-groovy-lint >/dev/null 2>&1; then
  if command -v npm >/dev/null 2>&1; then
    echo "ci-tools: installing npm-groovy-lint@14"
    npm install -g --silent --no-fund --no-audit npm-groovy-lint@14 >/dev/null 2>&1 \
      || echo "ci-tools: could not install npm-groovy-lint; the Jenkinsfile test will be skipped"
  else
    echo "ci-tools: npm not found; the Jenkinsfile test will be skipped"
  fi
fi
if command -v npm-groovy-lint >/dev/null 2>&1 && ! command -v java >/dev/null 2>&1; then
  echo "ci-tools: installing Java 17 for npm-groovy-lint"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    openjdk-17-jre-headless >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              openjdk-17-jre-headless >/dev/null 2>&1; } \
    || echo "ci-tools: could not install Java; the Jenkinsfile test will be skipped"
fi
if command -v npm-groovy-lint >/dev/null 2>&1; then
  echo "ci-tools: $(npm-groovy-lint --version 2>/dev/null | grep -m1 '^npm-groovy-lint version' || echo 'npm-groovy-lint')"
fi
