// Which browser origins the client port admits. The socketio plugin provides it under the service name
// "socketio-origin-policy" from its constructor. A plugin that takes credentials from cookies (redis-session's
// `cookie` setting) checks it at start: with every origin allowed, a page on any site can open a websocket that
// carries the user's cookies and read that user's notifications (cross-site websocket hijacking).
#pragma once

#include <boost/config.hpp>

#include <string_view>

namespace yunity {

inline constexpr std::string_view origin_policy_service = "socketio-origin-policy";

class BOOST_SYMBOL_VISIBLE OriginPolicy {
public:
    static constexpr std::string_view service_name = origin_policy_service;  // context.service<OriginPolicy>()

    virtual ~OriginPolicy() = default;
    // True when any origin may connect (allowed_origins empty or "*").
    virtual bool any_origin() const = 0;
};

}  // namespace yunity
