# Finds every external package, failing with one clear line that names the package and the
# command that installs it.
find_package(PkgConfig QUIET)

macro(hvemu_need found pkg)
  if(NOT ${found})
    message(FATAL_ERROR "hvemu: missing dependency ${pkg}. Install it with: "
      "sudo apt-get install ${pkg}   (macOS: brew install zydis sdl2 libelf criterion; "
      "MSYS2 UCRT64: pacman -S mingw-w64-ucrt-x86_64-{zydis,SDL2,libelf,criterion})")
  endif()
endmacro()

find_package(zydis 4 QUIET CONFIG)
hvemu_need(zydis_FOUND libzydis-dev)

if(NOT PkgConfig_FOUND)
  hvemu_need(PkgConfig_FOUND pkg-config)
endif()
pkg_check_modules(LIBELF QUIET IMPORTED_TARGET libelf)
hvemu_need(LIBELF_FOUND libelf-dev)

if(HVEMU_SDL)
  find_package(SDL2 QUIET CONFIG)
  hvemu_need(SDL2_FOUND libsdl2-dev)
endif()

if(HVEMU_TESTS)
  pkg_check_modules(CRITERION QUIET IMPORTED_TARGET criterion)
  hvemu_need(CRITERION_FOUND libcriterion-dev)
endif()
