# CPack: one .deb with the `grapevine` binary, its systemd unit and default config (a conffile),
# the static libraries, public headers, CMake package and pkg-config files.
#
#   cd build/release && cpack -G DEB     # -> grapevine_<version>_<arch>.deb
#   sudo apt install ./grapevine_*.deb && sudo systemctl enable --now grapevine
#
# Dependencies are listed by hand (Debian 12 names, what `ldd grapevine` shows), so building the
# package needs no dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME grapevine)
set(CPACK_PACKAGE_VENDOR "grapevine")
set(CPACK_PACKAGE_CONTACT "grapevine maintainers <grapevine@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gossip-based multicast and group membership: agent, C++ library, simulator")
set(CPACK_PACKAGE_DESCRIPTION
    "grapevine runs SWIM/Lifeguard membership and gossip multicast on real sockets and can join
HashiCorp memberlist/serf clusters. This package holds the `grapevine` command (agent, CLI,
simulator), a systemd unit running the agent from /etc/grapevine/grapevine.toml, and the static
C++ libraries with headers, a CMake package (find_package(grapevine)) and pkg-config files
(grapevine, grapevine-core, grapevine-crypto).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES OFF)

# The dev, bin and service components, all in one package.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL dev)
if(GRAPEVINE_TOOLS)
  list(APPEND CPACK_COMPONENTS_ALL bin service)
endif()

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1, libssl3 (>= 3.0.0), libre2-9, libspdlog1.10, libfmt9, libtomlplusplus3, passwd")
# To link the static libraries grapevine::crypto, io and sim: libcrypto and libssl
# (find_dependency(OpenSSL), pkg-config's libcrypto/libssl), and for io RE2 (pkg-config re2);
# grapevine::core alone needs none of them.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libssl-dev, libre2-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
