# A Docker engine and the postgres:15 / redis:7 images for the integration tests' `docker`
# provider (built locally: no registry is reachable). testcontainers' reaper image cannot be
# pulled, and noxops removes its own containers anyway; containers are reached on 127.0.0.1.
# The script lives in the workplace's shared folder: beside this clone (../shared), or beside
# the repository it was cloned from (a clone made into a temporary folder).
engine_script=""
for shared in ../shared "$(git config --get remote.origin.url 2>/dev/null || true)/../shared"; do
  if [ -f "$shared/env/container-engine.sh" ]; then
    engine_script="$shared/env/container-engine.sh"
    break
  fi
done
if [ -z "$engine_script" ]; then
  echo "::: setup: shared/env/container-engine.sh is neither in ../shared nor beside the" \
    "origin repository; put the clone next to the shared folder" >&2
  exit 1
fi
sh "$engine_script"
export TESTCONTAINERS_RYUK_DISABLED=true
export TC_HOST=127.0.0.1
