#pragma once

#include <yunity/events.hpp>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <string>

namespace yunity::socketio {

class Engine;
class Listener;
class Session;

// Completes a websocket upgrade the HTTP side has validated, over TLS with Beast's websocket stream (plain TCP
// connections take plain_websocket.hpp's leaner path). With `session` set, the websocket probes to become that
// session's transport (or is accepted and closed when the session has one already); without, it opens a new
// session of Engine.IO `version` over the websocket (plain Engine.IO when `raw_path` is set).
void start_websocket(Engine& engine, Listener& listener, boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                     boost::beast::http::request<boost::beast::http::string_body> request,
                     std::shared_ptr<Session> session, int version, std::shared_ptr<const Handshake> handshake,
                     std::string raw_path, std::string group);

}  // namespace yunity::socketio
