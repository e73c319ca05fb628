# The Debian package (scripts/package → chatd_<version>_amd64.deb), with CPack's DEB generator.
# Debian's places: the programs in /usr/bin, the units in /lib/systemd/system, the configuration
# and the nginx site in /etc as conffiles (the site not enabled), the web page in
# /usr/share/chatd/web, the manual pages generated from the option table.
#
# Everything here but the programs belongs to the component "deb", which a plain
# `cmake --install` leaves alone (it must not write /etc); the package takes both components.

# cpack builds what it installs only (not the tests), as scripts/package does.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(chatd_package_dir ${CMAKE_CURRENT_BINARY_DIR}/package)
set(chatd_packaging ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
file(MAKE_DIRECTORY ${chatd_package_dir})

# chatd(8) and chatd.conf(5), written by chatd itself from its command and option tables; and
# the changelog, compressed as Debian keeps them. Built for the package only (scripts/package,
# tests/package/check), not by default.
add_custom_command(
  OUTPUT ${chatd_package_dir}/chatd.8.gz ${chatd_package_dir}/chatd.conf.5.gz
         ${chatd_package_dir}/changelog.gz
  COMMAND sh -c "$<TARGET_FILE:chatd> manual chatd.8 | gzip -9n > ${chatd_package_dir}/chatd.8.gz"
  COMMAND sh -c
          "$<TARGET_FILE:chatd> manual chatd.conf.5 | gzip -9n > ${chatd_package_dir}/chatd.conf.5.gz"
  COMMAND sh -c "gzip -9n < ${chatd_packaging}/changelog > ${chatd_package_dir}/changelog.gz"
  DEPENDS chatd ${chatd_packaging}/changelog
  VERBATIM)
add_custom_target(chatd_package_files
  DEPENDS ${chatd_package_dir}/chatd.8.gz ${chatd_package_dir}/chatd.conf.5.gz
          ${chatd_package_dir}/changelog.gz)

# The mock model is installed as a program (tests/CMakeLists.txt), which CPack does not strip.
install(CODE [[
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND strip --strip-unneeded
                    "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/bin/chatd-mock-llm" COMMAND_ERROR_IS_FATAL ANY)
  endif()
]] COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/chatd.service
              ${CMAKE_CURRENT_SOURCE_DIR}/systemd/chatd.socket
              ${CMAKE_CURRENT_SOURCE_DIR}/systemd/chatd-mock-llm.service
        DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/chatd.sysusers
        DESTINATION lib/sysusers.d RENAME chatd.conf COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${chatd_packaging}/chatd.tmpfiles
        DESTINATION lib/tmpfiles.d RENAME chatd.conf COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/systemd/chatd.conf
        DESTINATION /etc/chatd COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/nginx/chatd.conf
        DESTINATION /etc/nginx/sites-available RENAME chatd COMPONENT deb EXCLUDE_FROM_ALL)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/web/dist/
        DESTINATION share/chatd/web COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${chatd_package_dir}/chatd.8.gz DESTINATION share/man/man8
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${chatd_package_dir}/chatd.conf.5.gz DESTINATION share/man/man5
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md ${chatd_packaging}/copyright
              ${chatd_package_dir}/changelog.gz
        DESTINATION share/doc/chatd COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chatd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "chatd maintainers <maintainers@chatd.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted agentic chat server (FastCGI, behind nginx)")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "chatd serves Coder's agentic chat API (/api/v2/chats) over FastCGI behind\n\
nginx: replies of OpenAI, Anthropic and Google models streamed in the Vercel\n\
AI SDK data stream format, tool calls through MCP servers, every message\n\
stored in PostgreSQL, and a web page to chat from.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
# The database may be on another host, and another web server may front chatd.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx, postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${chatd_packaging}/conffiles ${chatd_packaging}/postinst ${chatd_packaging}/prerm
    ${chatd_packaging}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# One package of both components: the programs and the rest.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified deb)
include(CPack)
