#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/crypto.h"
#include "core/time_util.h"
#include "domain/manifest.h"

using domain::BundleFile;
using domain::Manifest;

namespace {

std::vector<BundleFile> sample_files() {
    return {
        {"app/index.html", 5, core::sha256_hex("hello")},
        {"B.txt", 3, core::sha256_hex("abc")},
        {"app/a.js", 0, core::sha256_hex("")},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(manifest)

BOOST_AUTO_TEST_CASE(hash_matches_an_independent_computation) {
    // Computed with:
    // python3 -c "import hashlib; h=lambda b: hashlib.sha256(b).hexdigest();
    //   files=[('app/index.html',b'hello'),('B.txt',b'abc'),('app/a.js',b'')];
    //   s=''.join(p+h(c)+str(len(c)) for p,c in sorted(files, key=lambda f: f[0].encode()))+'0001';
    //   print(h(s.encode()))"
    const std::string expected = "8c6cd6e64b6dee2ead5e02fbf17d13dca84368adff53698127f4e724005a68db";
    BOOST_CHECK_EQUAL(domain::manifest_hash(sample_files(), "0001"), expected);
}

BOOST_AUTO_TEST_CASE(hash_does_not_depend_on_input_order_but_on_version) {
    auto files = sample_files();
    const std::string h = domain::manifest_hash(files, "0001");
    std::swap(files[0], files[2]);
    BOOST_CHECK_EQUAL(domain::manifest_hash(files, "0001"), h);
    BOOST_CHECK_NE(domain::manifest_hash(files, "0002"), h);
    files[1].size = 4;
    BOOST_CHECK_NE(domain::manifest_hash(files, "0001"), h);
}

BOOST_AUTO_TEST_CASE(empty_manifest_hash_is_hash_of_version) {
    // python3 -c "import hashlib; print(hashlib.sha256(b'0002').hexdigest())"
    BOOST_CHECK_EQUAL(domain::manifest_hash({}, "0002"),
                      "4fac6dbe26e823ed6edf999c63fab3507119cf3cbfb56036511aa62e258c35b4");
}

BOOST_AUTO_TEST_CASE(json_is_exact_and_sorted_bytewise) {
    Manifest m;
    m.version = "0001";
    m.pushed_at_ms = 1795900174123;  // 2026-11-28T21:09:34.123Z
    m.files = {{"app/index.html", 5, "h1"}, {"B.txt", 3, "h2"}};
    m.hash = "mh";
    const std::string t = "2026-11-28T21:09:34Z";
    BOOST_CHECK_EQUAL(domain::manifest_json(m),
                      R"({"files":[)"
                      R"({"path":"B.txt","size":3,"hash":"h2","mimeType":"text/plain","modTime":")" + t + R"("},)"
                      R"({"path":"app/index.html","size":5,"hash":"h1","mimeType":"text/html","modTime":")" + t + R"("}],)"
                      R"("version":"0001","generatedAt":")" + t + R"(","hash":"mh"})");
}

BOOST_AUTO_TEST_CASE(empty_file_list_is_an_array) {
    Manifest m;
    m.version = "";
    m.hash = domain::manifest_hash({}, "");
    const std::string json = domain::manifest_json(m);
    rapidjson::Document d;
    d.Parse(json.c_str());
    BOOST_REQUIRE(!d.HasParseError());
    BOOST_CHECK(d["files"].IsArray());
    BOOST_CHECK_EQUAL(d["files"].Size(), 0u);
    BOOST_CHECK_EQUAL(d["generatedAt"].GetString(), std::string("1970-01-01T00:00:00Z"));
}

BOOST_AUTO_TEST_CASE(json_round_trip) {
    Manifest m;
    m.version = "0042";
    m.pushed_at_ms = 1795900174000;
    m.files = sample_files();
    m.files.push_back({"app/caf\xc3\xa9 \"quoted\".js", 12345678901ull, core::sha256_hex("x")});
    m.hash = domain::manifest_hash(m.files, m.version);

    Manifest back = domain::parse_manifest_json(domain::manifest_json(m));
    BOOST_CHECK_EQUAL(back.version, m.version);
    BOOST_CHECK_EQUAL(back.pushed_at_ms, m.pushed_at_ms);
    BOOST_CHECK_EQUAL(back.hash, m.hash);
    BOOST_REQUIRE_EQUAL(back.files.size(), m.files.size());
    // Read back in manifest (bytewise) order.
    BOOST_CHECK_EQUAL(back.files[0].path, "B.txt");
    for (size_t i = 1; i < back.files.size(); ++i) BOOST_CHECK(back.files[i - 1].path < back.files[i].path);
    for (const auto& f : m.files) {
        bool found = false;
        for (const auto& g : back.files)
            if (g.path == f.path && g.size == f.size && g.sha256 == f.sha256) found = true;
        BOOST_CHECK_MESSAGE(found, "lost " << f.path);
    }
    BOOST_CHECK_EQUAL(domain::manifest_hash(back.files, back.version), m.hash);
}

BOOST_AUTO_TEST_CASE(push_time_is_whole_seconds) {
    Manifest m;
    m.version = "0001";
    m.pushed_at_ms = 1795900174999;
    Manifest back = domain::parse_manifest_json(domain::manifest_json(m));
    BOOST_CHECK_EQUAL(back.pushed_at_ms, 1795900174000);
}

BOOST_AUTO_TEST_CASE(malformed_manifest_throws) {
    BOOST_CHECK_THROW(domain::parse_manifest_json("[]"), std::runtime_error);
    BOOST_CHECK_THROW(domain::parse_manifest_json(R"({"files":[],"version":"1","hash":"h"})"), std::runtime_error);
    BOOST_CHECK_THROW(domain::parse_manifest_json(
                          R"({"files":[{"path":"a","size":-1,"hash":"h"}],"version":"1","generatedAt":"2026-11-28T21:09:34Z","hash":"h"})"),
                      std::runtime_error);
    BOOST_CHECK_THROW(domain::parse_manifest_json(
                          R"({"files":[],"version":"1","generatedAt":"2026-11-28 21:09:34","hash":"h"})"),
                      std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
