#!/usr/bin/env bash
# Installs the Debian 12 packages autopilot builds, tests and benchmarks with.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev nlohmann-json3-dev libcli11-dev libfmt-dev   # Asio, JSON, command line, formatting
  libgtest-dev libgmock-dev libbenchmark-dev                 # tests and benchmarks
  golang-go                                                  # the reference text/template for the differential test
  tini util-linux procps                                     # tini: benchmark floor; unshare: PID-1 tests
  python3                                                    # the layering test; the `files` tests' HTTP(S) server
  openssl                                                    # a test CA for the `files` https test
  nginx-light                                                # real nginx for the template tests (started by the tests)
  libc-ares-dev libssl-dev                                   # name lookup without NSS; TLS to etcd
  etcd-server                                                # real etcd for the etcd catalog tests (started by the tests)
  curl openssl                                               # stash tests and the stack: the client, the test CA
  prometheus                                                 # promtool checks /metrics; a real Prometheus scrapes autopilots
  python3-prometheus-client                                  # its strict OpenMetrics parser checks /metrics in that format
  redis-server redis-sentinel redis-tools                    # the reference stack's Redis tier (stack/, ctest -L stack)
  # The stack as real containers (stack/containers/, ctest -L containers): Debian's podman with runc (crun
  # refuses the hybrid cgroup layout here), podman-compose to run stack/compose.yaml, docker-compose only for
  # its `config` check, debootstrap for the base image (no registry needed), catatonit for podman pods,
  # the CNI dnsname plugin so that containers resolve each other by name (the etcd members of --etcd).
  podman runc podman-compose docker-compose debootstrap catatonit golang-github-containernetworking-plugin-dnsname
  clang libclang-rt-dev                                      # fuzz/run.sh: clang++ with libFuzzer and the ASan/UBSan runtimes
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
