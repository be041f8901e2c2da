#include "source_readiness.hpp"

#include <yunity/plugin.hpp>

namespace yunity::redis {

void SourceReadiness::announce(std::string detail) {
    ready_ = false;
    detail_ = detail;
    context_.bus().publish(events::SourceState{context_.plugin_name(), false, std::move(detail)});
}

void SourceReadiness::set(bool ready, std::string detail) {
    if (ready == ready_ && detail == detail_) return;
    ready_ = ready;
    detail_ = detail;
    if (ready) been_ready_ = true;
    if (ready) context_.logger()->info("redis: ready: {}", detail);
    else if (!been_ready_) context_.logger()->info("redis: not ready yet: {}", detail);
    else context_.logger()->warn("redis: not ready: {}", detail);
    context_.bus().publish(events::SourceState{context_.plugin_name(), ready, std::move(detail)});
}

}  // namespace yunity::redis
