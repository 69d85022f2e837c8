// What a client is told when storage fails: the boundary's translation of a full
// disk and of a lock wait timeout, and the errno classification behind the latter.
#include <boost/test/unit_test.hpp>

#include "core/files.h"
#include "db/error.h"
#include "handlers/context.h"
#include "handlers/routes.h"
#include "services/settings.h"

namespace {

core::ApiError translated(std::exception_ptr ep) {
    handlers::Context ctx{core::Config(services::setting_decls())};
    return handlers::build_hooks(ctx).translate(ep);
}

bool has_retry_after(const core::ApiError& e) {
    for (const auto& [name, value] : e.headers)
        if (name == "Retry-After" && !value.empty()) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fault_mapping)

BOOST_AUTO_TEST_CASE(lock_wait_timeout_is_its_own_kind_and_not_a_deadlock) {
    // A deadlock is retried at once; a lock wait timeout would only wait as long again.
    BOOST_TEST((db::classify_errno(1205) == db::ErrorKind::lock_timeout));
    BOOST_TEST((db::classify_errno(1213) == db::ErrorKind::deadlock));
}

BOOST_AUTO_TEST_CASE(lock_wait_timeout_is_503_busy_with_retry_after) {
    auto e = translated(std::make_exception_ptr(db::Error(db::ErrorKind::lock_timeout, 1205, "Lock wait timeout")));
    BOOST_TEST(e.status() == 503);
    BOOST_TEST(e.slug() == "unavailable");
    BOOST_TEST(e.detail() == "The database is busy; try again shortly");
    BOOST_TEST(has_retry_after(e));
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_503_saying_so_without_the_path) {
    auto e = translated(std::make_exception_ptr(core::StorageFull("writing /var/lib/synkronus/bundles/tmp/x: No space")));
    BOOST_TEST(e.status() == 503);
    BOOST_TEST(e.slug() == "unavailable");
    BOOST_TEST(e.detail().find("storage is full") != std::string::npos);
    BOOST_TEST(e.detail().find('/') == std::string::npos);
    BOOST_TEST(has_retry_after(e));
    // Any other file error stays a 500: only a full disk is the client's to retry.
    auto other = translated(std::make_exception_ptr(std::runtime_error("writing x: Input/output error")));
    BOOST_TEST(other.status() == 500);
}

BOOST_AUTO_TEST_SUITE_END()
