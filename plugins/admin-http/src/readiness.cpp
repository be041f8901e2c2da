#include "readiness.hpp"

#include "json_out.hpp"

namespace yunity::admin {

bool Readiness::update(const std::string& source, bool ready, std::string detail) {
    auto [it, inserted] = sources_.try_emplace(source);
    it->second.ready = ready;
    it->second.detail = std::move(detail);
    return inserted;
}

bool Readiness::ready() const {
    for (const auto& [name, state] : sources_)
        if (!state.ready) return false;
    return true;
}

bool Readiness::ready(std::string_view source) const {
    auto it = sources_.find(source);
    return it != sources_.end() && it->second.ready;
}

std::string Readiness::json() const {
    std::string out;
    StringOut os{out};
    JsonWriter w(os);
    w.StartObject();
    w.Key("ready");
    w.Bool(ready());
    w.Key("sources");
    w.StartObject();
    for (const auto& [name, state] : sources_) {
        put_string(w, name);
        w.StartObject();
        w.Key("ready");
        w.Bool(state.ready);
        w.Key("detail");
        put_string(w, state.detail);
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return out;
}

}  // namespace yunity::admin
