// The members other plugins add to GET /stats: the "admin-stats" service (yunity/admin_routes.hpp).
#pragma once

#include <yunity/admin_routes.hpp>

#include <functional>
#include <map>
#include <string>

namespace yunity::admin {

class StatsSections : public AdminStats {
public:
    void add(std::string name, std::function<std::string()> read) override;
    void remove(const std::string& name) override;
    // `json` (the core's counts, an object) with every section added as a further member.
    std::string extend(std::string json) const;

private:
    std::map<std::string, std::function<std::string()>> sections_;
};

}  // namespace yunity::admin
