// core/files: what a crash or a full disk leaves, and how it is told apart.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>

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

// Issue 18: an attachment upload is received into a file with no name (O_TMPFILE) and
// linked to its content-hash name once it is durable. Nothing is named in tmp/ at
// any moment, so nothing there is left to remove, even by a process that dies.
namespace {
std::string read_all(const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
bool empty_dir(const std::string& p) { return fs::is_empty(p); }
}  // namespace

BOOST_AUTO_TEST_CASE(an_unnamed_upload_names_nothing_in_tmp_and_links_its_bytes_durably) {
    TmpDir d;
    fs::create_directory(d.path + "/tmp");
    const std::string dest = d.path + "/dest";
    {
        core::TempFile t(d.path + "/tmp", "up-", core::TempFile::Unnamed{});
        BOOST_REQUIRE(t.unnamed());  // /tmp is ext4 or tmpfs here: both have O_TMPFILE
        BOOST_TEST(t.path().empty());
        t.write("hello ", 6);
        t.write("world", 5);
        BOOST_TEST(empty_dir(d.path + "/tmp"));
        t.sync();
        BOOST_TEST(t.sha256_hex() == core::sha256_hex("hello world"));
        BOOST_CHECK_THROW(t.write("x", 1), std::logic_error);  // finished
        bool existed = true;
        auto id = t.link_durably(dest, &existed);
        BOOST_REQUIRE(id.has_value());
        BOOST_TEST(!existed);
        BOOST_TEST((core::file_id(dest) == id));
        // Another upload of the same bytes keeps the name as it is.
        core::TempFile u(d.path + "/tmp", "up-", core::TempFile::Unnamed{});
        u.write("hello world", 11);
        u.sha256_hex();
        BOOST_TEST((u.link_durably(dest, &existed) == id));
        BOOST_TEST(existed);
    }
    BOOST_TEST(empty_dir(d.path + "/tmp"));
    BOOST_TEST(read_all(dest) == "hello world");
    struct stat st;
    BOOST_REQUIRE(::stat(dest.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0644u);
    BOOST_TEST(st.st_nlink == 1u);
}

// The path the upload takes when retention removed the name between the link and the
// counter lock: the unnamed file has no name left and can not be linked again, so its
// bytes are copied into a named file in tmp/ (fsynced) and that is linked.
BOOST_AUTO_TEST_CASE(an_unnamed_upload_whose_name_was_removed_is_linked_again_with_its_bytes) {
    TmpDir d;
    fs::create_directory(d.path + "/tmp");
    const std::string dest = d.path + "/dest";
    {
        core::TempFile t(d.path + "/tmp", "up-", core::TempFile::Unnamed{});
        BOOST_REQUIRE(t.unnamed());
        std::string big(200 * 1024, 'z');  // more than one copy buffer
        big[0] = 'a';
        t.write(big.data(), big.size());
        t.sha256_hex();
        auto first = t.link_durably(dest);
        BOOST_REQUIRE(first.has_value());
        fs::remove(dest);  // retention
        auto again = t.link_durably(dest);
        BOOST_REQUIRE(again.has_value());
        BOOST_TEST((core::file_id(dest) == again));
        BOOST_TEST(!t.unnamed());
        BOOST_TEST(read_all(dest) == big);
        BOOST_TEST(fs::exists(t.path()));  // the named copy, until the object goes
    }
    BOOST_TEST(empty_dir(d.path + "/tmp"));
    BOOST_TEST(fs::file_size(dest) == 200u * 1024);
}

// A filesystem without hard links takes publish(): rename needs a name.
// A name that was there (EEXIST) and is gone before it is read (retention removing a
// retired file between the link and the stat): the upload links its own bytes again.
// Another thread makes and removes the name every few microseconds (far more often than
// retention could); with one attempt only (before 0.6.0) uploads failed with "gone at
// once" (seen once in CI under ASan).
BOOST_AUTO_TEST_CASE(a_name_removed_between_link_and_stat_is_linked_again) {
    TmpDir d;
    fs::create_directories(d.path + "/tmp");
    const std::string dest = d.path + "/dest";
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop.load()) {
            int fd = ::open(dest.c_str(), O_CREAT | O_WRONLY, 0644);
            if (fd >= 0) ::close(fd);
            std::this_thread::sleep_for(std::chrono::microseconds(20));
            ::unlink(dest.c_str());
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    });
    int failures = 0, linked = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
    while (std::chrono::steady_clock::now() < until) {
        try {
            core::TempFile t(d.path + "/tmp", "up-", core::TempFile::Unnamed{});
            t.write("abc", 3);
            if (t.link_durably(dest)) ++linked;
        } catch (const std::exception& e) {
            if (failures++ == 0) BOOST_TEST_MESSAGE("first failure: " << e.what());
        }
    }
    stop = true;
    churn.join();
    BOOST_TEST(linked > 0);
    BOOST_TEST(failures == 0);
}

BOOST_AUTO_TEST_CASE(an_unnamed_upload_can_be_published_by_rename) {
    TmpDir d;
    fs::create_directory(d.path + "/tmp");
    const std::string dest = d.path + "/dest";
    {
        core::TempFile t(d.path + "/tmp", "up-", core::TempFile::Unnamed{});
        t.write("abc", 3);
        t.sha256_hex();
        std::ofstream(dest) << "old";
        t.publish(dest);
    }
    BOOST_TEST(empty_dir(d.path + "/tmp"));
    BOOST_TEST(read_all(dest) == "abc");
}

// A process killed while receiving leaves nothing in tmp/ (a named upload leaves its
// file until a sweep); the kill is after the bytes were written and fsynced.
BOOST_AUTO_TEST_CASE(a_process_killed_mid_upload_leaves_nothing_in_tmp) {
    TmpDir d;
    fs::create_directory(d.path + "/tmp");
    for (bool unnamed : {true, false}) {
        int ready[2];
        BOOST_REQUIRE(::pipe(ready) == 0);
        pid_t p = ::fork();
        if (p == 0) {
            ::close(ready[0]);
            std::unique_ptr<core::TempFile> t =
                unnamed ? std::make_unique<core::TempFile>(d.path + "/tmp", "up-", core::TempFile::Unnamed{})
                        : std::make_unique<core::TempFile>(d.path + "/tmp", "up-");
            t->write("abc", 3);
            t->sync();
            if (::write(ready[1], "r", 1) != 1) ::_exit(2);
            ::pause();
            ::_exit(0);
        }
        ::close(ready[1]);
        char c;
        BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
        ::close(ready[0]);
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
        BOOST_TEST(empty_dir(d.path + "/tmp") == unnamed);
        fs::remove_all(d.path + "/tmp");
        fs::create_directory(d.path + "/tmp");
    }
}

BOOST_AUTO_TEST_CASE(fchmod_only_when_the_umask_takes_a_bit_of_0644) {
    BOOST_TEST(!core::umask_takes_from_0644(022));
    BOOST_TEST(!core::umask_takes_from_0644(0133));
    BOOST_TEST(core::umask_takes_from_0644(027));
    BOOST_TEST(core::umask_takes_from_0644(077));
    BOOST_TEST(core::umask_takes_from_0644(-1));  // unknown
}

BOOST_AUTO_TEST_SUITE_END()
