# Sourced by the install tests: same_build BUILD_DIR prints, one per line, the CMake arguments that build an
# out-of-tree plugin the way BUILD_DIR was built. The core refuses a plugin whose build signature differs
# (sdk/include/yunity/abi.hpp: compiler, sanitizers...), so an example built with the default compiler would
# not load into a clang or sanitizer build.
same_build() {
  local cache=$1/CMakeCache.txt var
  for var in CMAKE_CXX_COMPILER CMAKE_CXX_FLAGS CMAKE_SHARED_LINKER_FLAGS CMAKE_MODULE_LINKER_FLAGS; do
    echo "-D$var=$(sed -n "s/^$var:[A-Z]*=//p" "$cache")"
  done
}
