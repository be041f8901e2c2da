// Redis replies built by hand, in the shapes hiredis hands over (RESP2), for unit tests of what reads them.
#pragma once

#include "redis_link.hpp"

#include <string>
#include <utility>
#include <vector>

namespace yunity::test {

inline redis::Reply nil() { return redis::Reply{}; }

inline redis::Reply integer(long long v) {
    redis::Reply r;
    r.type = redis::Reply::Type::integer;
    r.integer = v;
    return r;
}

inline redis::Reply string(std::string s) {
    redis::Reply r;
    r.type = redis::Reply::Type::string;
    r.str = std::move(s);
    return r;
}

inline redis::Reply array(std::vector<redis::Reply> elements) {
    redis::Reply r;
    r.type = redis::Reply::Type::array;
    r.elements = std::move(elements);
    return r;
}

}  // namespace yunity::test
