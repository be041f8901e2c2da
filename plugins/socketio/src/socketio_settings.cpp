// The socketio plugin's description of its settings (see YUNITY_PLUGIN_SETTINGS), exported from an object file
// of the plugin module itself: the table lives with TransportConfig in the static library, where nothing would
// pull in an export placed beside it unless something else in that file happened to be used.
#include "transport_config.hpp"

#include <yunity/plugin.hpp>

YUNITY_PLUGIN_SETTINGS(yunity::socketio::TransportConfig::settings())
