#include "websocket_accept.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>

namespace yunity::socketio {

std::optional<std::string> websocket_accept(std::string_view key) {
    // 16 bytes in base64: 22 characters of the alphabet and "==".
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (key.size() != 24 || key.substr(22) != "==" ||
        key.substr(0, 22).find_first_not_of(alphabet) != std::string_view::npos)
        return std::nullopt;
    constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    // The digest is fetched from the provider once and its context kept per thread: EVP_Digest with EVP_sha1()
    // fetched and allocated both again for every handshake (four allocations, a storm's worth of them).
    // Should the fetch fail, the implicit fetch of EVP_sha1() on each call still works.
    static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    const EVP_MD* sha1 = fetched ? fetched : EVP_sha1();
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                       &EVP_MD_CTX_free);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (!context || EVP_DigestInit_ex2(context.get(), sha1, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), key.data(), key.size()) != 1 ||
        EVP_DigestUpdate(context.get(), guid.data(), guid.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest.data(), &digest_size) != 1 || digest_size != 20)
        return std::nullopt;
    std::array<unsigned char, 29> encoded{};  // 4 * ceil(20 / 3) + the terminating NUL
    const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
    return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

}  // namespace yunity::socketio
