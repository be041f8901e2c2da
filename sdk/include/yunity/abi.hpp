// The plugin ABI check. A plugin is refused at load unless its API version equals the core's and its build
// signature (compiler, C++ standard, libstdc++ ABI, Boost version, sanitizers, how Asio is linked) is
// identical: C++ classes cross the library boundary, and any of these differing makes their layouts or symbols
// disagree silently.
#pragma once

#include <boost/version.hpp>

#include <cstdint>

namespace yunity {

// Raised whenever an SDK type that crosses the boundary changes shape. Never lowered.
inline constexpr std::uint32_t api_version = 9;

}  // namespace yunity

#define YUNITY_STR_(x) #x
#define YUNITY_STR(x) YUNITY_STR_(x)

#if defined(__clang__)
#define YUNITY_COMPILER_ "clang-" YUNITY_STR(__clang_major__)
#elif defined(__GNUC__)
#define YUNITY_COMPILER_ "gcc-" YUNITY_STR(__GNUC__)
#else
#define YUNITY_COMPILER_ "unknown-compiler"
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define YUNITY_ASAN_ 1
#endif
#if __has_feature(thread_sanitizer)
#define YUNITY_TSAN_ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(YUNITY_ASAN_)
#define YUNITY_ASAN_ 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(YUNITY_TSAN_)
#define YUNITY_TSAN_ 1
#endif
#if defined(YUNITY_ASAN_)
#define YUNITY_SAN_ "asan"
#elif defined(YUNITY_TSAN_)
#define YUNITY_SAN_ "tsan"
#else
#define YUNITY_SAN_ "none"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define YUNITY_CXXABI_ YUNITY_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define YUNITY_CXXABI_ "n/a"
#endif

// Boost.Asio must be the shared library YunitySockets::asio (see sdk/src/asio.cpp): a plugin carrying its own
// header-only copy would crash on the core's loop.
#if defined(BOOST_ASIO_SEPARATE_COMPILATION) && defined(BOOST_ASIO_DYN_LINK)
#define YUNITY_ASIO_ "shared"
#else
#define YUNITY_ASIO_ "header-only"
#endif

// e.g. "gcc-12 c++=202002L cxx11abi=1 boost=108100 sanitizer=none asio=shared"
#define YUNITY_BUILD_SIGNATURE                                                                           \
    YUNITY_COMPILER_ " c++=" YUNITY_STR(__cplusplus) " cxx11abi=" YUNITY_CXXABI_ " boost=" YUNITY_STR( \
        BOOST_VERSION) " sanitizer=" YUNITY_SAN_ " asio=" YUNITY_ASIO_
