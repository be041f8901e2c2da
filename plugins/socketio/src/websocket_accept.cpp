#include "websocket_accept.hpp"

#include <openssl/evp.h>

#include <array>

namespace yunity::socketio {

std::optional<std::string> websocket_accept(std::string_view key) {
    // 16 bytes in base64: 22 characters of the alphabet and "==".
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (key.size() != 24 || key.substr(22) != "==" ||
        key.substr(0, 22).find_first_not_of(alphabet) != std::string_view::npos)
        return std::nullopt;
    std::string input(key);
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1 ||
        digest_size != 20)
        return std::nullopt;
    std::array<unsigned char, 29> encoded{};  // 4 * ceil(20 / 3) + the terminating NUL
    const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
    return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

}  // namespace yunity::socketio
