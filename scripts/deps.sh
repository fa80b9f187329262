#!/usr/bin/env bash
# Installs what grapevine needs to build and test on Debian 12 (bookworm). Run as root.
# Skips apt entirely when everything is already there, so repeated runs are fast.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libasio-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libmsgpack-cxx-dev
  libssl-dev libtomlplusplus-dev libre2-dev
  gnuplot-nox iproute2 procps
  # tests: JSON checks in the shell tests; netns_*.sh loads sch_netem (kmod) or drops with iptables
  python3 kmod iptables
  # tests/integration/tls_agents.sh makes its CA and member certificates with the openssl CLI
  openssl
  # memberlist interop: tests/interop/golden/generate.sh builds golden vectors with memberlist's Go code
  golang-go golang-github-hashicorp-memberlist-dev golang-github-hashicorp-go-msgpack-dev
  # serf interop: tests/interop/serf_interop.py joins a grapevine agent to serf agents
  serf
  # netns_hostile.sh: the attacker seals its forgeries with its own AES-GCM key (without it, random
  # ciphertext, which a receiver cannot tell apart)
  python3-cryptography
  # netns_dns_seeds.sh: a local DNS server (A and SRV records) for --join/--retry-join by name
  dnsmasq-base
  # Python bindings (python/, target grapevine_python) and their pytest suite; matplotlib only for
  # examples/python/plot_infection.py
  pybind11-dev python3-dev python3-pytest python3-numpy python3-matplotlib
  # tests/ui/ui_test.py: the browser UI in headless Chromium (driven over its DevTools pipe)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root (or: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's serf package enables and starts a serf agent service (0.0.0.0:7946, RPC on
  # 127.0.0.1:7373, grapevine's default RPC address too). The tests only need the binary: when
  # we installed it just now, stop that service and keep it from starting at boot.
  if [[ " ${missing[*]} " == *" serf "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now serf.service >/dev/null 2>&1 || true
  fi
fi
