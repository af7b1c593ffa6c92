# `cpack` (from the build directory) makes a Debian package of what `cmake --install` installs:
# the headers, libndislock.so and .a, the CMake package, the pkg-config files, the docs and the
# Valgrind suppressions, under /usr. The test consumer.debian_package installs it with dpkg into a
# temporary root (its own dpkg database, the maintainer scripts run) and builds the consumer
# programs against it, as a user of the .deb would (tests/consumer/run_consumers.sh).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ndislock-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "ndislock maintainers <ndislock@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # ndislock-dev_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# The C++ runtime and libc the library links: computed by dpkg-shlibdeps where it is installed
# (dpkg-dev), else stated (Debian 12's versions, the oldest this is built and tested on).
find_program(NDISLOCK_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NDISLOCK_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1 (>= 3.0)")
endif()
# Users build against it with a C compiler and pkg-config or CMake.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config, cmake")
include(CPack)
