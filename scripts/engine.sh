# Sourced by the image scripts: picks a container engine and sets ENGINE
# (an array: the command and its global flags).
# Docker when its daemon answers, else podman with runc and this machine's
# ulimits (scripts/containers.conf). CONTAINER_ENGINE=podman|docker forces one.
pick_engine() {
  local want=${CONTAINER_ENGINE:-}
  if [[ $want != podman ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    ENGINE=(docker)
  elif [[ $want != docker ]] && command -v podman >/dev/null; then
    export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf}
    ENGINE=(podman --runtime runc)
  else
    echo "no container engine: install podman (apt-get install podman runc) or start a Docker daemon" >&2
    return 1
  fi
}
