// The redis target (--redis, REDIS_URL, the config file's "redis") with Sentinel and Cluster forms. Input: the URL.
#include "redis_target.hpp"

#include "fuzz_check.hpp"

namespace redis = yunity::redis;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    std::string error;
    const auto target = redis::parse_redis_target(text, &error);
    if (!target) {
        FUZZ_CHECK(!error.empty());
        return 0;
    }
    FUZZ_CHECK(error.empty());
    using Kind = redis::RedisTarget::Kind;
    const auto& url = target->url;
    FUZZ_CHECK(url.port != 0 && url.db >= 0 && !url.host.empty());
    if (target->kind == Kind::single) {
        FUZZ_CHECK(target->seeds.empty() && target->master_name.empty());
        return 0;
    }
    FUZZ_CHECK(!target->seeds.empty());
    FUZZ_CHECK(target->seeds.front().host == url.host);
    for (const auto& seed : target->seeds) {
        FUZZ_CHECK(seed.port != 0 && !seed.host.empty());
        for (const char c : seed.host) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
        // Sentinels are asked without the master's credentials; cluster nodes with them.
        if (target->kind == Kind::sentinel) FUZZ_CHECK(seed.password.empty() && seed.user.empty() && seed.db == 0);
        else FUZZ_CHECK(seed.password == url.password && seed.user == url.user);
    }
    if (target->kind == Kind::sentinel) {
        FUZZ_CHECK(!target->master_name.empty());
        // +switch-master names the master between spaces: a name with a space or control character could not
        // be matched.
        for (const char c : target->master_name) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    } else {
        FUZZ_CHECK(target->master_name.empty() && url.db == 0);
    }
    // The redacted form never shows the password: it is the same whatever the password is.
    if (!url.password.empty()) {
        auto other = *target;
        other.url.password = url.password + "-other";
        FUZZ_CHECK(redis::redact(other) == redis::redact(*target));
    }
    return 0;
}
