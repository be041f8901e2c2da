#include "json_reader.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <cstdint>
#include <system_error>

namespace yunity::json {

namespace {

// Whether a number that is out of a double's range is so because it is large (else it is tiny): from the
// position of its first significant digit and its exponent. `text` is valid JSON number syntax.
bool too_large(std::string_view text) {
    if (text.front() == '-') text.remove_prefix(1);
    const auto e = text.find_first_of("eE");
    const auto mantissa = text.substr(0, e);
    long long exponent = 0;
    if (e != std::string_view::npos) {
        auto digits = text.substr(e + 1);
        const bool negative = !digits.empty() && digits.front() == '-';
        if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
        if (std::from_chars(digits.data(), digits.data() + digits.size(), exponent).ec != std::errc{})
            return !negative;  // an exponent beyond 18 digits decides alone
        if (negative) exponent = -exponent;
    }
    const auto point = mantissa.find('.');
    const auto integer = mantissa.substr(0, point);
    const auto first = integer.find_first_not_of('0');
    if (first != std::string_view::npos) return static_cast<long long>(integer.size() - first) - 1 + exponent >= 0;
    const auto fraction = point == std::string_view::npos ? std::string_view() : mantissa.substr(point + 1);
    return -static_cast<long long>(fraction.find_first_not_of('0')) - 1 + exponent >= 0;
}

// Passes the reader's events to the document, numbers (which the reader hands over as text) converted here.
class ExactNumbers {
public:
    ExactNumbers(rapidjson::Document& doc, bool& number_too_big, std::size_t max_depth)
        : doc_(doc), number_too_big_(number_too_big), max_depth_(max_depth) {}

    bool Null() { return doc_.Null(); }
    bool Bool(bool b) { return doc_.Bool(b); }
    bool Int(int i) { return doc_.Int(i); }
    bool Uint(unsigned u) { return doc_.Uint(u); }
    bool Int64(std::int64_t i) { return doc_.Int64(i); }
    bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
    bool Double(double d) { return doc_.Double(d); }
    bool String(const char* s, rapidjson::SizeType length, bool copy) { return doc_.String(s, length, copy); }
    bool Key(const char* s, rapidjson::SizeType length, bool copy) { return doc_.Key(s, length, copy); }
    // Returning false ends the parse with kParseErrorTermination: the depth limit.
    bool StartObject() { return ++depth_ <= max_depth_ && doc_.StartObject(); }
    bool EndObject(rapidjson::SizeType members) {
        --depth_;
        return doc_.EndObject(members);
    }
    bool StartArray() { return ++depth_ <= max_depth_ && doc_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) {
        --depth_;
        return doc_.EndArray(elements);
    }

    bool RawNumber(const char* s, rapidjson::SizeType length, bool) {
        const std::string_view text(s, length);
        const char* end = s + length;
        if (text.find_first_of(".eE") == std::string_view::npos) {
            if (text.front() == '-') {
                std::int64_t i = 0;
                if (std::from_chars(s, end, i).ec == std::errc{}) return doc_.Int64(i);
            } else {
                std::uint64_t u = 0;
                if (std::from_chars(s, end, u).ec == std::errc{}) return doc_.Uint64(u);
            }
        }
        double d = 0;
        const auto [ptr, ec] = std::from_chars(s, end, d);
        if (ec == std::errc::result_out_of_range) {
            if (too_large(text)) {
                number_too_big_ = true;
                return false;
            }
            return doc_.Double(text.front() == '-' ? -0.0 : 0.0);
        }
        return ec == std::errc{} && ptr == end && doc_.Double(d);
    }

private:
    rapidjson::Document& doc_;
    bool& number_too_big_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
};

}  // namespace

rapidjson::ParseResult parse(rapidjson::Document& doc, std::string_view text, std::size_t max_depth) {
    constexpr unsigned flags =
        rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
    rapidjson::ParseResult result;
    bool number_too_big = false;
    auto generate = [&](rapidjson::Document& target) {
        ExactNumbers handler(target, number_too_big, max_depth);
        rapidjson::MemoryStream bytes(text.data(), text.size());
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
        rapidjson::Reader reader;
        result = reader.Parse<flags>(in, handler);
        return !result.IsError();
    };
    doc.SetNull();
    doc.Populate(generate);
    if (number_too_big) result.Set(rapidjson::kParseErrorNumberTooBig, result.Offset());
    return result;
}

std::string describe(const rapidjson::ParseResult& result, std::size_t max_depth) {
    if (result.Code() == rapidjson::kParseErrorTermination)
        return "nested deeper than " + std::to_string(max_depth) + " levels";
    return rapidjson::GetParseError_En(result.Code());
}

}  // namespace yunity::json
