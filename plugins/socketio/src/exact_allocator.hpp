#pragma once

// Memory for an Asio operation of its own size. Asio hands operations blocks from a per-thread cache, so a
// readiness wait (about 100 bytes) often gets the block an HTTP read left (about 300). That suits operations
// that end soon; an idle connection's read wait is held for the connection's whole life, and at 19,000 idle
// connections the difference is measured in megabytes. Bound to such handlers with asio::bind_allocator.

#include <cstddef>
#include <memory>

namespace yunity::socketio {

template <class T>
struct ExactAllocator {
    using value_type = T;
    ExactAllocator() = default;
    template <class U>
    ExactAllocator(const ExactAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    friend bool operator==(const ExactAllocator&, const ExactAllocator&) noexcept { return true; }
};

}  // namespace yunity::socketio
