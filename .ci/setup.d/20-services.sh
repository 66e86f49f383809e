# PostgreSQL 15 and Redis server binaries for the integration tests' `local` provider.
# Installed without starting any daemon: noxops starts its own servers on free ports.
_noxops_services_missing=""
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || _noxops_services_missing="postgresql-15"
command -v redis-server >/dev/null 2>&1 || _noxops_services_missing="$_noxops_services_missing redis-server"
if [ -n "$_noxops_services_missing" ]; then
  echo "services: installing $_noxops_services_missing"
  export DEBIAN_FRONTEND=noninteractive
  # No default cluster, and no daemon started by the packages' scripts.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/noxops-no-main.conf
  _noxops_policy_made=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    _noxops_policy_made=1
  fi
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $_noxops_services_missing >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $_noxops_services_missing >/dev/null; }
  [ -n "$_noxops_policy_made" ] && rm -f /usr/sbin/policy-rc.d
  unset _noxops_policy_made
fi
unset _noxops_services_missing
echo "services: $(ls -d /usr/lib/postgresql/*/bin | head -1), $(redis-server --version | cut -d' ' -f1-3)"
