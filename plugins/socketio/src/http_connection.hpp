#pragma once

#include "address_slots.hpp"
#include "sockets.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace boost::asio::ssl {
class context;
}

namespace yunity::socketio {

class Engine;
class Listener;

// Serves one accepted TCP connection: Engine.IO polling requests (keep-alive), CORS preflights, and the
// hand-off of websocket upgrades; over TLS first when `tls` is set. `unbound` is its slot among its address's
// connections without a session (Engine::admit_connection), given back with its first request for a session.
// `peer` is the socket's remote endpoint, as accept gave it. Declared as a function so that only its own file
// includes Beast.
void start_http_connection(Engine& engine, Listener& listener, Socket socket,
                           const boost::asio::ip::tcp::endpoint& peer, boost::asio::ssl::context* tls,
                           AddressSlots::Slot unbound);

}  // namespace yunity::socketio
