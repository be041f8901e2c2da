// A websocket frame as a client sends it (RFC 6455: masked, with the 7-bit, 16-bit or 64-bit length), for the
// tests of the server's frame reader and websocket connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace yunity::test {

// `first_byte` is FIN and the opcode; the key is RFC 6455 section 5.7's examples' (37 fa 21 3d).
inline std::string client_frame(unsigned first_byte, std::string_view payload) {
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::string out(1, static_cast<char>(first_byte));
    const std::uint64_t size = payload.size();
    if (size < 126) {
        out += static_cast<char>(0x80 | size);
    } else if (size <= 0xffff) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(size >> 8);
        out += static_cast<char>(size & 0xff);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) out += static_cast<char>((size >> (8 * i)) & 0xff);
    }
    out.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i % 4]);
    return out;
}

}  // namespace yunity::test
