// core/files: what a crash or a full disk leaves, and how it is told apart.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/files.h"
#include "services/file_store.h"

namespace fs = std::filesystem;

namespace {

struct TmpDir {
    std::string path;
    TmpDir() {
        char tmpl[] = "/tmp/synk-files-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TmpDir() { fs::remove_all(path); }
};

void touch(const std::string& p) { std::ofstream(p) << "x"; }

// A pid that surely runs no process: a child that has exited and been reaped.
pid_t dead_pid() {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    ::waitpid(p, nullptr, 0);
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(files)

// The one check of a stored file against its record (both stores' `check`).
BOOST_AUTO_TEST_CASE(file_store_verify_names_what_differs) {
    TmpDir d;
    const std::string f = d.path + "/f";
    std::ofstream(f) << "hello";
    const std::string sha = core::sha256_hex("hello");
    BOOST_TEST(!services::FileStore::verify(f, sha, 5).has_value());
    BOOST_TEST(services::FileStore::verify(f, sha, 6).value_or("").find("has 5 bytes, not 6") != std::string::npos);
    BOOST_TEST(services::FileStore::verify(f, core::sha256_hex("other"), 5).value_or("").find("SHA-256") !=
               std::string::npos);
    BOOST_TEST(services::FileStore::verify(d.path + "/gone", sha, 5).value_or("").find("missing") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_store_keeps_uploads_and_stages_in_its_tmp) {
    TmpDir d;
    services::FileStore store(d.path + "/store/");
    BOOST_TEST(store.root() == d.path + "/store");
    BOOST_TEST(store.tmp_dir() == d.path + "/store/tmp");
    store.make_dirs("files");
    BOOST_TEST(fs::is_directory(d.path + "/store/files"));
    auto up = store.begin_upload("upload-");
    BOOST_TEST(up->path().rfind(store.tmp_dir() + "/upload-", 0) == 0);
    const std::string stage = store.stage_dir("push-");
    BOOST_TEST(fs::is_directory(stage));
    BOOST_TEST(stage.rfind(store.tmp_dir() + "/push-", 0) == 0);
}

BOOST_AUTO_TEST_CASE(sweep_dead_owners_removes_only_leftovers_of_dead_processes_of_this_host) {
    TmpDir d;
    const std::string mine = core::owner_tag();  // "<host>.<pid>."
    const std::string host = mine.substr(0, mine.find('.'));
    const std::string dead = host + "." + std::to_string(dead_pid()) + ".";
    // What a worker killed mid-push leaves: an upload and a half-extracted tree.
    touch(d.path + "/push-" + dead + "00ff.zip");
    fs::create_directories(d.path + "/push-" + dead + "11ee.d/app/js");
    touch(d.path + "/push-" + dead + "11ee.d/app/js/main.js");
    // Live: this process's own upload, a name made by random_name, another host's.
    touch(d.path + "/push-" + mine + "22dd.zip");
    const std::string named = core::random_name(d.path, "gone-");
    touch(named);
    const std::string other = d.path + "/push-otherhost." + std::to_string(dead_pid()) + ".33cc.zip";
    touch(other);
    touch(d.path + "/unrelated");

    BOOST_TEST(core::sweep_dead_owners(d.path) == 2);
    BOOST_TEST(!fs::exists(d.path + "/push-" + dead + "00ff.zip"));
    BOOST_TEST(!fs::exists(d.path + "/push-" + dead + "11ee.d"));
    BOOST_TEST(fs::exists(d.path + "/push-" + mine + "22dd.zip"));
    BOOST_TEST(fs::exists(named));
    BOOST_TEST(fs::exists(other));
    BOOST_TEST(fs::exists(d.path + "/unrelated"));
    BOOST_TEST(core::sweep_dead_owners(d.path) == 0);
    BOOST_TEST(core::sweep_dead_owners(d.path + "/missing") == 0);
}

BOOST_AUTO_TEST_CASE(random_name_carries_the_owner_tag) {
    std::string n = core::random_name("/x", "push-", ".zip");
    BOOST_TEST(n.rfind("/x/push-" + core::owner_tag(), 0) == 0);
    BOOST_TEST(n.size() == std::string("/x/push-").size() + core::owner_tag().size() + 16 + 4);
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_storage_full_other_errors_are_not) {
    int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    BOOST_REQUIRE(full >= 0);
    BOOST_CHECK_THROW(core::write_all(full, "abc", 3, "test file"), core::StorageFull);
    ::close(full);
    int ro = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    try {
        core::write_all(ro, "abc", 3, "test file");
        BOOST_FAIL("writing a read-only descriptor succeeded");
    } catch (const core::StorageFull&) {
        BOOST_FAIL("EBADF taken for a full disk");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find("test file") != std::string::npos);
    }
    ::close(ro);
}

BOOST_AUTO_TEST_CASE(hash_file_reports_size_and_hash_or_absence) {
    TmpDir d;
    std::ofstream(d.path + "/f") << "abc";
    std::string sha;
    uint64_t size = 0;
    BOOST_TEST(core::hash_file(d.path + "/f", sha, size));
    BOOST_TEST(size == 3u);
    BOOST_TEST(sha == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(!core::hash_file(d.path + "/missing", sha, size));
    BOOST_TEST(!core::hash_file(d.path, sha, size));  // a directory
}

BOOST_AUTO_TEST_CASE(link_durably_names_the_file_keeps_an_existing_name_and_file_id_tells_a_replacement) {
    TmpDir d;
    const std::string dest = d.path + "/dest";
    std::string tmp_path;
    std::optional<core::FileId> first;
    {
        core::TempFile t(d.path, "up-");
        t.write("abc", 3);
        tmp_path = t.path();
        first = t.link_durably(dest);
        BOOST_REQUIRE(first.has_value());
        BOOST_TEST((core::file_id(dest) == first));
        // A second name for the same bytes: kept as it is.
        core::TempFile u(d.path, "up-");
        u.write("abc", 3);
        BOOST_TEST((u.link_durably(dest) == first));
    }
    // The temporary names went with their objects; the final name stays.
    BOOST_TEST(!fs::exists(tmp_path));
    std::ifstream in(dest);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(got == "abc");
    // Removed and made again at the same path: another file (the old one kept under
    // another name, so its inode number cannot be handed out again here).
    fs::create_hard_link(dest, d.path + "/keep");
    fs::remove(dest);
    BOOST_TEST(!core::file_id(dest).has_value());
    touch(dest);
    BOOST_TEST((core::file_id(dest) != first));
}

BOOST_AUTO_TEST_SUITE_END()
