# Installation: the libraries as an exported CMake package (grapevine::core, grapevine::crypto,
# grapevine::io, grapevine::sim; what each is for: grapevineConfig.cmake.in), the public headers
# (include/grapevine/ only), pkg-config files, and the `grapevine` binary with a systemd unit
# and a default config, packaged as a .deb by CPack.
#
#   cmake --install build/release --prefix /opt/grapevine        # libraries, headers, binary
#   sudo cmake --install build/release --component service        # + unit and /etc config (the
#                                                                 #   unit runs /usr/bin/grapevine)
#   (cd build/release && cpack -G DEB)                            # grapevine_<ver>_<arch>.deb
#
# tests/package/ checks all of it (ctest -L package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GRAPEVINE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/grapevine)

install(TARGETS grapevine_core grapevine_crypto grapevine_re2 grapevine_io grapevine_sim
        EXPORT grapevineTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/grapevine
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.h")
install(EXPORT grapevineTargets NAMESPACE grapevine:: FILE grapevineTargets.cmake
        DESTINATION ${GRAPEVINE_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/grapevineConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/grapevineConfig.cmake
                              INSTALL_DESTINATION ${GRAPEVINE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/grapevineConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/grapevineConfig.cmake
              ${PROJECT_BINARY_DIR}/grapevineConfigVersion.cmake
        DESTINATION ${GRAPEVINE_CMAKE_DIR} COMPONENT dev)

# pkg-config, three files as the targets stack (relocatable: the prefix is found from the .pc
# file's own directory):
#   grapevine-core.pc    -lgrapevine_core, nothing else (no libcrypto);
#   grapevine-crypto.pc  the cipher: -lgrapevine_crypto with its -u anchor, Requires
#                        grapevine-core and libcrypto;
#   grapevine.pc         the embedding API: -lgrapevine_io -lgrapevine_re2, Requires
#                        grapevine-crypto, libssl (the runtime's optional mutual TLS on streams,
#                        src/io/tls.cc) and re2 (query tag filters).
# The archives are static, so libcrypto and libssl are plain Requires (Requires.private when
# shared).
file(RELATIVE_PATH GRAPEVINE_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" GRAPEVINE_PC_TO_PREFIX "${GRAPEVINE_PC_TO_PREFIX}")
if(BUILD_SHARED_LIBS)
  set(GRAPEVINE_PC_CRYPTO_REQUIRES "grapevine-core")
  set(GRAPEVINE_PC_CRYPTO_REQUIRES_PRIVATE "libcrypto")
  set(GRAPEVINE_PC_REQUIRES "grapevine-crypto")
  set(GRAPEVINE_PC_REQUIRES_PRIVATE "libssl re2")
else()
  set(GRAPEVINE_PC_CRYPTO_REQUIRES "grapevine-core libcrypto")
  set(GRAPEVINE_PC_CRYPTO_REQUIRES_PRIVATE "")
  set(GRAPEVINE_PC_REQUIRES "grapevine-crypto libssl re2")
  set(GRAPEVINE_PC_REQUIRES_PRIVATE "")
endif()
set(GRAPEVINE_PC_LIBS_EXTRA "-pthread")
set(GRAPEVINE_PC_CORE_LIBS_EXTRA "")
if(GRAPEVINE_SANITIZE)
  set(GRAPEVINE_PC_CORE_LIBS_EXTRA "-fsanitize=address,undefined")
endif()
foreach(pc grapevine grapevine-core grapevine-crypto)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()

# The binary; the service: the unit and the default config go to absolute system paths, so a
# plain `cmake --install --prefix DIR` leaves them out (EXCLUDE_FROM_ALL); the .deb carries them.
if(GRAPEVINE_TOOLS)
  install(TARGETS grapevine RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin)
  set(GRAPEVINE_SYSTEMD_UNIT_DIR /lib/systemd/system CACHE PATH "Where the .deb puts grapevine.service")
  # The .deb's prefix is /usr (CPACK_PACKAGING_INSTALL_PREFIX).
  set(GRAPEVINE_BINARY_PATH /usr/${CMAKE_INSTALL_BINDIR}/grapevine)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/grapevine.service.in
                 ${PROJECT_BINARY_DIR}/packaging/grapevine.service @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/grapevine.service
          DESTINATION ${GRAPEVINE_SYSTEMD_UNIT_DIR} COMPONENT service EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/grapevine.toml
          DESTINATION /etc/grapevine COMPONENT service EXCLUDE_FROM_ALL)
endif()

include(${PROJECT_SOURCE_DIR}/cmake/package_deb.cmake)
