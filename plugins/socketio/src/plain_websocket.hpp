#pragma once

#include <yunity/events.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace yunity::socketio {

class Engine;
class Listener;
class Session;

// Takes over a plain TCP connection whose websocket upgrade the HTTP side has validated, writes `response` (the
// 101) and speaks RFC 6455 over it with the framing of websocket_frames.hpp: no buffer is held while the
// connection is idle (reads go through one buffer per thread), a notification's bytes are shared by every
// recipient, and the frames queued in one turn of the loop leave in one system call. With `session` set, the
// websocket probes to become that session's transport (or is closed when the session has one already); without,
// it opens a new session of Engine.IO `version` (plain Engine.IO when `raw_path` is set).
void start_plain_websocket(Engine& engine, Listener& listener, boost::asio::ip::tcp::socket socket,
                           std::string response, std::shared_ptr<Session> session, int version,
                           std::shared_ptr<const Handshake> handshake, std::string raw_path, std::string group);

}  // namespace yunity::socketio
