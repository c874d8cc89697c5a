# Installs the myriad program, the static library, its headers and a CMake package, so that a
# separate project can `find_package(Myriad)` and link Myriad::myriad (examples/custom_model):
#
#   <prefix>/bin/myriad
#   <prefix>/lib/libmyriad.a
#   <prefix>/include/myriad/{sim,models,search,partition}/*.h, myriad_version.h
#   <prefix>/lib/cmake/Myriad/MyriadConfig.cmake, MyriadConfigVersion.cmake, MyriadTargets.cmake
#
# Exported targets: Myriad::myriad (the library; its include dir is include/myriad, so
# consumers write #include "sim/rng.h" as the library itself does) and Myriad::myriad_deps
# (the dependencies' include dirs and link lines: imported targets such as OpenMP::OpenMP_C,
# found again by MyriadConfig.cmake, and absolute library paths). The build tree exports the
# same targets, so -DMyriad_DIR=<build dir> works without installing.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MYRIAD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Myriad)
set_target_properties(myriad_lib PROPERTIES EXPORT_NAME myriad)

install(TARGETS myriad RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS myriad_lib myriad_deps EXPORT MyriadTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Every header but the library's private ones (*_internal.h), keeping the folder layout.
foreach(dir sim models search partition)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/myriad/${dir}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh" PATTERN "*.def"
    PATTERN "*_internal.h" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/myriad_version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/myriad)

# The imported targets named in the exported link interfaces (OpenMP::OpenMP_C, Threads::Threads,
# and whatever the CUDA or MPI layers add) must exist in the consumer before MyriadTargets.cmake
# is read: collect one find_dependency() line per package, in MyriadConfig.cmake.in's
# @MYRIAD_FIND_DEPENDENCIES@. Read here, at the end of the top-level CMakeLists.txt, the link
# interfaces are complete.
set(MYRIAD_FIND_DEPENDENCIES "")
set(_myriad_links "")
foreach(target myriad_lib myriad_deps)
  get_target_property(_links ${target} INTERFACE_LINK_LIBRARIES)
  if(_links)
    list(APPEND _myriad_links ${_links})
  endif()
endforeach()
string(REGEX MATCHALL "[A-Za-z0-9_]+::" _namespaces "${_myriad_links}")
list(REMOVE_DUPLICATES _namespaces)
foreach(ns IN LISTS _namespaces)
  if(ns STREQUAL "OpenMP::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(OpenMP COMPONENTS C)\n")
  elseif(ns STREQUAL "Threads::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(Threads)\n")
  elseif(ns STREQUAL "CUDA::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(CUDAToolkit)\n")
  elseif(ns STREQUAL "MPI::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(MPI COMPONENTS C)\n")
  elseif(ns STREQUAL "HDF5::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(HDF5 COMPONENTS C)\n")
  elseif(ns STREQUAL "ZLIB::")
    string(APPEND MYRIAD_FIND_DEPENDENCIES "find_dependency(ZLIB)\n")
  elseif(NOT ns STREQUAL "Myriad::")
    message(WARNING "MyriadInstall.cmake: the library links a ${ns} target; add its "
                    "find_dependency() line here, or installed consumers cannot resolve it")
  endif()
endforeach()

install(EXPORT MyriadTargets NAMESPACE Myriad:: DESTINATION ${MYRIAD_CMAKE_DIR})
export(EXPORT MyriadTargets NAMESPACE Myriad:: FILE ${PROJECT_BINARY_DIR}/MyriadTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/MyriadConfig.cmake.in
  ${PROJECT_BINARY_DIR}/MyriadConfig.cmake INSTALL_DESTINATION ${MYRIAD_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/MyriadConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/MyriadConfig.cmake ${PROJECT_BINARY_DIR}/MyriadConfigVersion.cmake
  DESTINATION ${MYRIAD_CMAKE_DIR})
