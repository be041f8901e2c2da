#include "handshake_query.hpp"

#include <boost/url/parse.hpp>

namespace yunity::eio {

std::optional<HandshakeQuery> parse_handshake_query(std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    HandshakeQuery q;
    q.path = url->path();
    for (auto param : url->params()) {
        if (param.key == "EIO") q.eio = param.value;
        else if (param.key == "transport") q.transport = param.value;
        else if (param.key == "sid") q.sid = param.value;
        else if (param.key == "j") q.j = param.value;
        else if (param.key == "b64") q.b64 = true;
        q.query.emplace_back(std::move(param.key), std::move(param.value));
    }
    return q;
}

}  // namespace yunity::eio
