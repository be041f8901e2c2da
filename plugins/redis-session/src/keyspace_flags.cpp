#include "keyspace_flags.hpp"

namespace yunity::redis_session {

std::string merge_keyspace_flags(std::string_view current) {
    std::string merged(current);
    const bool all = current.find('A') != std::string_view::npos;
    for (char flag : needed_keyspace_flags) {
        const bool covered = merged.find(flag) != std::string::npos || (all && flag != 'K' && flag != 'E');
        if (!covered) merged += flag;
    }
    return merged;
}

std::string escape_glob(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace yunity::redis_session
