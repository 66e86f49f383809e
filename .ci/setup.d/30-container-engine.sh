# A Docker engine and the postgres:15 / redis:7 images for the integration tests' `docker`
# provider (built locally: no registry is reachable). testcontainers' reaper image cannot be
# pulled, and noxops removes its own containers anyway; containers are reached on 127.0.0.1.
sh ../shared/env/container-engine.sh
export TESTCONTAINERS_RYUK_DISABLED=true
export TC_HOST=127.0.0.1
