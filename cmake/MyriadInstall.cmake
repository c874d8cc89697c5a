# Installs the library, its headers and a CMake package so that out-of-tree models can
# `find_package(Myriad)` and link Myriad::myriad (see examples/custom_model).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS myriad RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS myriad_lib myriad_deps EXPORT MyriadTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(dir sim models search partition)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION include/myriad/${dir}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.def")
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/myriad_version.h DESTINATION include/myriad)
install(EXPORT MyriadTargets NAMESPACE Myriad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Myriad)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/MyriadConfig.cmake.in
  ${PROJECT_BINARY_DIR}/MyriadConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Myriad)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/MyriadConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/MyriadConfig.cmake ${PROJECT_BINARY_DIR}/MyriadConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Myriad)
