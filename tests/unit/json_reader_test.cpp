// Untrusted JSON into a DOM with exact numbers (json_reader.hpp).
#include "json_reader.hpp"

#include <doctest/doctest.h>
#include <rapidjson/error/en.h>

#include <cmath>
#include <string>

namespace json = yunity::json;

namespace {

rapidjson::Document must_parse(std::string_view text) {
    rapidjson::Document doc;
    const auto result = json::parse(doc, text);
    INFO("text: " << std::string(text) << " error: " << rapidjson::GetParseError_En(result.Code()));
    REQUIRE_FALSE(result.IsError());
    return doc;
}

rapidjson::ParseErrorCode error_of(std::string_view text) {
    rapidjson::Document doc;
    return json::parse(doc, text).Code();
}

}  // namespace

TEST_SUITE("json reader") {

TEST_CASE("values of every type, integers as integers") {
    const auto doc = must_parse(R"({"a":[null,true,false,"s",0,-1,4294967295,-2147483649,18446744073709551615,1.5]})");
    const auto& a = doc["a"];
    CHECK(a[0].IsNull());
    CHECK(a[1].IsTrue());
    CHECK(a[3] == "s");
    CHECK(a[4].IsUint64());
    CHECK(a[5].GetInt64() == -1);
    CHECK(a[6].GetUint() == 4294967295u);
    CHECK(a[7].GetInt64() == -2147483649LL);
    CHECK(a[8].GetUint64() == 18446744073709551615ULL);
    CHECK(a[9].GetDouble() == 1.5);
    CHECK(must_parse("-0").GetInt64() == 0);  // a bare value is a document too, -0 the integer 0 (JSON.stringify writes 0)
}

TEST_CASE("integers beyond 64 bits become doubles") {
    CHECK(must_parse("18446744073709551616").GetDouble() == 18446744073709551616.0);
    CHECK(must_parse("-9223372036854775809").GetDouble() == -9223372036854775809.0);
    CHECK(must_parse("-9223372036854775808").GetInt64() == INT64_MIN);
}

TEST_CASE("doubles correctly rounded, zeros zero") {
    CHECK(must_parse("0.1").GetDouble() == 0.1);
    CHECK(must_parse("2.2250738585072011e-308").GetDouble() == 2.2250738585072011e-308);
    CHECK(must_parse("5e-324").GetDouble() == 5e-324);
    CHECK(must_parse("1.7976931348623157e308").GetDouble() == 1.7976931348623157e308);
    for (auto zero : {"0e308", "0e38", "0e-23", "0.0000000000000000000000000", "1e-400", "1e-99999999999999999999"})
        CHECK(must_parse(zero).GetDouble() == 0.0);
    // RapidJSON's reader refuses an exponent above 308 before the digits are looked at (JSON.parse gives 0).
    CHECK(error_of("0e400") == rapidjson::kParseErrorNumberTooBig);
    CHECK(std::signbit(must_parse("-1e-400").GetDouble()));
}

TEST_CASE("a number too large for a double is an error") {
    for (auto big : {"1e309", "-1e400", "184467375e300", "0.001e312", "1e99999999999999999999"})
        CHECK(error_of(big) == rapidjson::kParseErrorNumberTooBig);
    CHECK(error_of("[1,1e400]") == rapidjson::kParseErrorNumberTooBig);
}

TEST_CASE("what RapidJSON refuses is refused: syntax, trailing text, bad UTF-8, a lone high surrogate") {
    CHECK(error_of("") == rapidjson::kParseErrorDocumentEmpty);
    CHECK(error_of("[1,]") != rapidjson::kParseErrorNone);
    CHECK(error_of("1 2") == rapidjson::kParseErrorDocumentRootNotSingular);
    CHECK(error_of("\"\xff\"") == rapidjson::kParseErrorStringInvalidEncoding);
    CHECK(error_of(R"("\ud800")") == rapidjson::kParseErrorStringUnicodeSurrogateInvalid);
    CHECK(error_of("NaN") != rapidjson::kParseErrorNone);
    CHECK(error_of("01") != rapidjson::kParseErrorNone);
}

TEST_CASE("nesting up to the limit is read without recursion; one level more is refused, and says so") {
    const auto nested = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
    CHECK(must_parse(nested(json::default_max_depth)).IsArray());
    rapidjson::Document doc;
    auto result = json::parse(doc, nested(json::default_max_depth + 1));
    CHECK(result.Code() == rapidjson::kParseErrorTermination);
    CHECK(json::describe(result) == "nested deeper than 64 levels");
    // Deep input costs nothing: the parse stops at the limit, however deep the rest goes.
    CHECK(json::parse(doc, nested(1000000)).Code() == rapidjson::kParseErrorTermination);
    CHECK(json::parse(doc, R"({"a":[{"b":)" + nested(70) + "}]}").Code() == rapidjson::kParseErrorTermination);
    // A caller may ask for more, or less.
    CHECK_FALSE(json::parse(doc, nested(1000), 1000).IsError());
    CHECK(json::parse(doc, R"({"a":{}})", 1).Code() == rapidjson::kParseErrorTermination);
    CHECK(json::describe(json::parse(doc, "[1,", 3)) != "nested deeper than 3 levels");
}

TEST_CASE("a document parsed again starts from scratch") {
    rapidjson::Document doc;
    CHECK_FALSE(json::parse(doc, R"({"a":1})").IsError());
    CHECK(json::parse(doc, "[1,").IsError());
    CHECK(doc.IsNull());
    CHECK_FALSE(json::parse(doc, "[2]").IsError());
    CHECK(doc[0].GetInt() == 2);  // not doc[0] == 2: RapidJSON 1.1's operator== recurses forever under g++ in C++20
}

}
