#pragma once

// The Engine.IO parameters and the application's query of a request target, as the HTTP transport reads them
// (`/socket.io/?EIO=4&transport=polling&sid=...&token=x`). Pure: no I/O, so it is unit tested and fuzzed alone.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yunity::eio {

struct HandshakeQuery {
    std::string path;  // percent-decoded
    // The last value of each when repeated; empty when absent. All percent-decoded, '+' read as a space.
    std::string eio;
    std::string transport;
    std::string sid;
    std::string j;  // JSONP index (version 3)
    // Set by a `b64` parameter with or without a value, as the transport has always read it.
    bool b64 = false;
    // Every parameter, Engine.IO's own included, in order, repeats kept: what the handshake shows the application
    // and the admin report, as socket.io's `handshake.query` and the original server's report did.
    std::vector<std::pair<std::string, std::string>> query;
};

// nullopt when `target` is not an origin-form request target (RFC 9112, 3.2.1).
std::optional<HandshakeQuery> parse_handshake_query(std::string_view target);

}  // namespace yunity::eio
