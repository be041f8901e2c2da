# Installs the example config and the deploy files, and configures CPack to build a Debian package:
#   cmake --build <build> && (cd <build> && cpack -G DEB)
# The package installs under /usr: /usr/bin/yunity-sockets, /usr/lib/yunity-sockets/plugins/, the SDK (headers
# and CMake package), and /usr/share/yunity-sockets/{config.example.json,deploy/}. Its postinst creates the
# yunity-sockets system user; it enables and starts nothing.

set(YUNITY_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/yunity-sockets")
install(FILES ${PROJECT_SOURCE_DIR}/deploy/config.example.json DESTINATION ${YUNITY_INSTALL_DATADIR})
install(FILES
    ${PROJECT_SOURCE_DIR}/deploy/yunity-sockets.service
    ${PROJECT_SOURCE_DIR}/deploy/yunity-sockets.default
    ${PROJECT_SOURCE_DIR}/deploy/nginx-yunity-sockets.conf
    ${PROJECT_SOURCE_DIR}/deploy/Containerfile
    ${PROJECT_SOURCE_DIR}/deploy/config.example.json
  DESTINATION ${YUNITY_INSTALL_DATADIR}/deploy)

set(CPACK_PACKAGE_NAME "yunity-sockets")
set(CPACK_PACKAGE_VENDOR "yunity")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "redis to socket.io push server")
set(CPACK_PACKAGE_DESCRIPTION "Holds socket.io connections (clients 2.x, 3.x and 4.x), resolves their sessions \
in redis and delivers the notifications a web application publishes on a redis channel. Plugins extend it.")
set(CPACK_PACKAGE_CONTACT "yunity-sockets maintainers <yunity-sockets@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Debug information stays in the build tree; the package gets stripped binaries (~30 MB smaller).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME "yunity-sockets")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/yunity/yunity-sockets")
# Runtime libraries from dpkg-shlibdeps (the executable and every plugin); libyunity-asio.so is the package's
# own, found in the build tree. adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_BINARY_DIR}/sdk")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server, nginx")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/deploy/postinst")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/node_modules/" "/build[^/]*/")
include(CPack)
