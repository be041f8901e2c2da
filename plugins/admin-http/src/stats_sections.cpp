#include "stats_sections.hpp"

#include <stdexcept>

namespace yunity::admin {

void StatsSections::add(std::string name, std::function<std::string()> read) {
    // A plain key needs no escaping, and cannot break the object it joins.
    const bool plain = !name.empty() && name.find_first_not_of(
                                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-") == std::string::npos;
    if (!plain) throw std::invalid_argument("a /stats member name must be letters, digits, '_' or '-': " + name);
    sections_[std::move(name)] = std::move(read);
}

void StatsSections::remove(const std::string& name) { sections_.erase(name); }

std::string StatsSections::extend(std::string json) const {
    if (sections_.empty() || json.empty() || json.back() != '}') return json;
    json.pop_back();
    for (const auto& [name, read] : sections_) json += ",\"" + name + "\":" + read();
    json += '}';
    return json;
}

}  // namespace yunity::admin
