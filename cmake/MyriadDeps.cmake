# Finds Myriad's dependencies and gathers them in the interface target `myriad_deps`.
# libyaml and libcrypto are linked from their static archives when present: the GPU hosts we
# run on have HDF5, OpenMPI and NCCL runtimes but not libyaml.
add_library(myriad_deps INTERFACE)

find_package(OpenMP REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(ZLIB REQUIRED) # sim/h5util.c deflates HDF5 chunks itself, on all threads
find_package(Threads REQUIRED)

find_path(MYRIAD_YAML_INCLUDE yaml.h REQUIRED)
find_library(MYRIAD_YAML_LIBRARY NAMES libyaml.a yaml REQUIRED)
find_path(MYRIAD_CRYPTO_INCLUDE openssl/evp.h REQUIRED)
find_library(MYRIAD_CRYPTO_LIBRARY NAMES libcrypto.a crypto REQUIRED)

target_include_directories(myriad_deps SYSTEM INTERFACE
  ${HDF5_C_INCLUDE_DIRS} ${MYRIAD_YAML_INCLUDE} ${MYRIAD_CRYPTO_INCLUDE})
target_compile_definitions(myriad_deps INTERFACE ${HDF5_C_DEFINITIONS})
target_link_libraries(myriad_deps INTERFACE
  OpenMP::OpenMP_C ${HDF5_C_LIBRARIES} ZLIB::ZLIB ${MYRIAD_YAML_LIBRARY} ${MYRIAD_CRYPTO_LIBRARY}
  Threads::Threads ${CMAKE_DL_LIBS} m)

# MPI: only to launch processes and share the NCCL id (partition layer).
find_package(MPI COMPONENTS C QUIET)
set(MYRIAD_HAVE_MPI ${MPI_C_FOUND})

# CUDA: AUTO enables it when a compiler is found.
set(MYRIAD_HAVE_CUDA OFF)
set(MYRIAD_CUDA_NOTE "")
if(NOT MYRIAD_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # H100/H200 (sm_90, with PTX for newer parts) and the common older parts CUDA 13 still
      # supports: T4 (75), A100 (80), RTX 30xx (86), L4 and RTX 40xx (89). CUDA 13 dropped sm_70.
      set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 86-real 89-real 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    find_package(CUDAToolkit REQUIRED)
    set(MYRIAD_HAVE_CUDA ON)
    # The library's kernels need the CUDA runtime (static: no runtime library to install) and,
    # for nvcc's host code, the C++ runtime, also when a C program links the library.
    target_link_libraries(myriad_deps INTERFACE CUDA::cudart_static stdc++)
    set(MYRIAD_CUDA_NOTE "(nvcc ${CMAKE_CUDA_COMPILER_VERSION}, sm ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(MYRIAD_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MYRIAD_CUDA=ON but no CUDA compiler was found (is nvcc on PATH?)")
  else()
    set(MYRIAD_CUDA_NOTE "(nvcc not found)")
  endif()
endif()

set(MYRIAD_HAVE_NCCL OFF)
if(MYRIAD_HAVE_CUDA)
  find_library(MYRIAD_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  find_path(MYRIAD_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(MYRIAD_NCCL_LIBRARY AND MYRIAD_NCCL_INCLUDE)
    set(MYRIAD_HAVE_NCCL ON)
  endif()
endif()
