// Pure rules of the attachment endpoints: the id rule, the stored content type,
// the base of download_url; and the temporary file every store publishes through.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/crypto.h"
#include "core/files.h"
#include "domain/content_type.h"
#include "domain/path_rules.h"
#include "handlers/attachments.h"

BOOST_AUTO_TEST_SUITE(attachments)

BOOST_AUTO_TEST_CASE(ids_are_one_safe_file_name) {
    using domain::valid_attachment_id;
    for (const char* ok : {"a", "0d5f7c4e-3b1a-4c2d-9e8f-1a2b3c4d5e6f.jpg", "photo_1.JPEG", "a..b", "x.", "-x", "_"})
        BOOST_CHECK_MESSAGE(valid_attachment_id(ok), ok);
    BOOST_CHECK(valid_attachment_id(std::string(255, 'x')));
    for (const char* bad : {"", ".", "..", ".hidden", "a/b", "../x", "a\\b", "a b", "a\x01" "b", "a\x7f", "a:b",
                            "\xc3\xa9.jpg", "a%2Fb", "a?b", "a#b"})
        BOOST_CHECK_MESSAGE(!valid_attachment_id(bad), bad);
    BOOST_CHECK(!valid_attachment_id(std::string(256, 'x')));
    BOOST_CHECK(!valid_attachment_id(std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(content_type_is_the_parts_then_the_extensions) {
    using domain::attachment_content_type;
    BOOST_CHECK_EQUAL(attachment_content_type("image/png", "x.jpg"), "image/png");
    BOOST_CHECK_EQUAL(attachment_content_type("Image/PNG", "x.jpg"), "image/png");
    BOOST_CHECK_EQUAL(attachment_content_type(" audio/mp4 ; codecs=mp4a", "x"), "audio/mp4");
    BOOST_CHECK_EQUAL(attachment_content_type("application/vnd.api+json", "x"), "application/vnd.api+json");
    // No real type: by the id's extension, else octet-stream.
    for (const char* none : {"", "application/octet-stream", "APPLICATION/OCTET-STREAM; x=1", "image", "image/",
                             "/png", "image/p ng", "im(age)/png", "text/plain\r\nX: y"})
        BOOST_CHECK_MESSAGE(attachment_content_type(none, "x.JPG") == "image/jpeg", none);
    BOOST_CHECK_EQUAL(attachment_content_type("", "x.pdf"), "application/pdf");
    BOOST_CHECK_EQUAL(attachment_content_type("", "x.unknown"), "application/octet-stream");
    BOOST_CHECK_EQUAL(attachment_content_type("", "noext"), "application/octet-stream");
    BOOST_CHECK_EQUAL(attachment_content_type("bogus", "x."), "application/octet-stream");
    BOOST_CHECK_EQUAL(attachment_content_type(std::string(200, 'a') + "/b", "x.png"), "image/png");
}

BOOST_AUTO_TEST_CASE(download_base_is_the_called_host_or_the_configured_url) {
    std::string host = "sync.example.org:8443";
    BOOST_CHECK_EQUAL(*handlers::download_base("", &host), "https://sync.example.org:8443");
    std::string v6 = "[::1]:8443";
    BOOST_CHECK_EQUAL(*handlers::download_base("", &v6), "https://[::1]:8443");
    BOOST_CHECK_EQUAL(*handlers::download_base("https://files.example.org/", &host), "https://files.example.org");
    BOOST_CHECK_EQUAL(*handlers::download_base("https://files.example.org", nullptr), "https://files.example.org");
    BOOST_CHECK(!handlers::download_base("", nullptr));
    for (const char* bad : {"", "evil.org/path", "a b", "host\r\nX: y", "user@host", "h?q"}) {
        std::string h = bad;
        BOOST_CHECK_MESSAGE(!handlers::download_base("", &h), bad);
    }
}

BOOST_AUTO_TEST_CASE(temp_files_are_hashed_published_or_removed) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("synk-files-" + core::hex_encode(core::random_bytes(6)));
    fs::create_directories(dir / "out");
    std::string dropped;
    {
        core::TempFile t(dir.string(), "up-");
        t.write("ab", 2);
        dropped = t.path();
        BOOST_CHECK(fs::exists(dropped));
    }
    BOOST_CHECK(!fs::exists(dropped));  // not published: gone
    {
        core::TempFile t(dir.string(), "up-");
        t.write("hello ", 6);
        t.write("world", 5);
        BOOST_CHECK_EQUAL(t.size(), 11u);
        BOOST_CHECK_EQUAL(t.sha256_hex(), core::sha256_hex("hello world"));
        const std::string src = t.path();
        t.publish((dir / "out" / "f").string());
        BOOST_CHECK(!fs::exists(src));
    }
    std::ifstream in(dir / "out" / "f");
    std::stringstream ss;
    ss << in.rdbuf();
    BOOST_CHECK_EQUAL(ss.str(), "hello world");
    struct stat st;
    BOOST_REQUIRE(::stat((dir / "out" / "f").c_str(), &st) == 0);
    BOOST_CHECK_EQUAL(st.st_mode & 0777, 0644u);
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
