#pragma once

#include "sockets.hpp"
#include "websocket_connection.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace yunity::socketio {

class Engine;
class Listener;

// A websocket over plain TCP, whose upgrade the HTTP side has validated: the protocol is
// WebsocketConnection's; the I/O here keeps no buffer while the connection is idle (reads go through one buffer
// per thread, when the socket is readable) and writes the frames queued in one turn of the loop in one gathered
// system call.
void start_plain_websocket(Engine& engine, Listener& listener, Socket socket, WebsocketStart start);

}  // namespace yunity::socketio
