#pragma once

#include "sockets.hpp"
#include "websocket_connection.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace yunity::socketio {

class Engine;
class Listener;

// A websocket over TLS, whose upgrade the HTTP side has validated: the protocol is WebsocketConnection's, the
// same as over plain TCP; the I/O here reads and writes through the TLS stream.
void start_tls_websocket(Engine& engine, Listener& listener, boost::beast::ssl_stream<TcpStream> stream,
                         WebsocketStart start);

}  // namespace yunity::socketio
