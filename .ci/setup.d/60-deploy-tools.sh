# promtool (and the prometheus server) for the deploy tests: generated alert rules are checked
# with `promtool check rules`, and canary analysis can query a real Prometheus on 127.0.0.1.
# Debian's `prometheus` package ships both; its daemon is not started (tests run their own).
# If the install fails, those tests skip with the reason instead of failing CI here.
if ! command -v promtool >/dev/null 2>&1; then
  echo "deploy: installing prometheus (for promtool)"
  export DEBIAN_FRONTEND=noninteractive
  _noxops_deploy_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    _noxops_deploy_policy=1
  fi
  apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 \
         && apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1; } \
    || echo "deploy: could not install prometheus; the promtool tests will be skipped"
  if [ -n "$_noxops_deploy_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  unset _noxops_deploy_policy
fi
if command -v promtool >/dev/null 2>&1; then
  echo "deploy: $(promtool --version 2>&1 | head -1)"
fi
