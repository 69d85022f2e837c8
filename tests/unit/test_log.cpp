// core/log: every line names the process that wrote it, also after a fork (the pid is
// asked of the kernel once per process, issue 18, and a fork forgets it).
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <boost/test/unit_test.hpp>

#include "core/log.h"

namespace {

// What `pid` logged: the child writes one info line to a pipe in place of stderr.
std::string line_of_a_child(pid_t* child) {
    int p[2];
    if (::pipe(p) != 0) return {};
    pid_t c = ::fork();
    if (c == 0) {
        ::dup2(p[1], 2);
        core::log::info("from the child");
        ::_exit(0);
    }
    ::close(p[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    ::waitpid(c, nullptr, 0);
    *child = c;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(a_line_names_the_process_that_wrote_it_also_after_a_fork) {
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    const int saved = ::dup(2);
    ::dup2(p[1], 2);
    core::log::info("from the parent");  // the parent's pid is now known to the logger
    ::dup2(saved, 2);
    ::close(saved);
    ::close(p[1]);
    char buf[512];
    ssize_t n = ::read(p[0], buf, sizeof buf);
    ::close(p[0]);
    BOOST_REQUIRE(n > 0);
    BOOST_TEST(std::string(buf, static_cast<size_t>(n)).find(" pid=" + std::to_string(::getpid()) + " ") !=
               std::string::npos);
    for (int i = 0; i < 2; ++i) {
        pid_t child = 0;
        const std::string line = line_of_a_child(&child);
        BOOST_TEST(line.find(" pid=" + std::to_string(child) + " ") != std::string::npos, line);
        BOOST_TEST(line.find("from the child") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
