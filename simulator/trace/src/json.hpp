// A small JSON reader for the simulator's inputs (config, launch attributes,
// cost table, kernel info). Files are written by npusim's Python side, so a
// strict recursive-descent parser with clear errors is all we need.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace npusim::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::map<std::string, Value> object;

  bool is_object() const { return kind == Kind::Object; }
  bool has(const std::string &key) const { return is_object() && object.count(key) != 0; }
  const Value &at(const std::string &key) const {
    if (!is_object()) throw std::runtime_error("JSON: not an object when looking up '" + key + "'");
    auto it = object.find(key);
    if (it == object.end()) throw std::runtime_error("JSON: missing key '" + key + "'");
    return it->second;
  }
  double num() const {
    if (kind != Kind::Number) throw std::runtime_error("JSON: expected a number");
    return number;
  }
  int64_t i64() const { return static_cast<int64_t>(num()); }
  const std::string &str() const {
    if (kind != Kind::String) throw std::runtime_error("JSON: expected a string");
    return string;
  }
};

class Parser {
 public:
  explicit Parser(const std::string &text) : text_(text) {}

  Value parse_document() {
    Value v = parse_value();
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters");
    return v;
  }

 private:
  const std::string &text_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string &what) const {
    throw std::runtime_error("JSON parse error at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of input");
    return text_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool consume_word(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text_.compare(pos_, n, word) == 0) {
      pos_ += n;
      return true;
    }
    return false;
  }

  Value parse_value() {
    char c = peek();
    Value v;
    if (c == '{') {
      v.kind = Value::Kind::Object;
      ++pos_;
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        if (peek() != '"') fail("expected an object key");
        std::string key = parse_string();
        expect(':');
        v.object[key] = parse_value();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Value::Kind::Array;
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.array.push_back(parse_value());
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Value::Kind::String;
      v.string = parse_string();
      return v;
    }
    if (consume_word("true")) {
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      return v;
    }
    if (consume_word("false")) {
      v.kind = Value::Kind::Bool;
      return v;
    }
    if (consume_word("null")) return v;
    return parse_number();
  }

  Value parse_number() {
    const char *begin = text_.c_str() + pos_;
    char *end = nullptr;
    double d = std::strtod(begin, &end);
    if (end == begin) fail("expected a value");
    pos_ += static_cast<size_t>(end - begin);
    Value v;
    v.kind = Value::Kind::Number;
    v.number = d;
    return v;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'u': {
          // Our inputs are ASCII; keep the code point when it is, else '?'.
          if (pos_ + 4 > text_.size()) fail("short \\u escape");
          unsigned code = std::stoul(text_.substr(pos_, 4), nullptr, 16);
          pos_ += 4;
          out.push_back(code < 128 ? static_cast<char>(code) : '?');
          break;
        }
        default: out.push_back(e);
      }
    }
  }
};

inline Value parse(const std::string &text) { return Parser(text).parse_document(); }

inline std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

}  // namespace npusim::json
