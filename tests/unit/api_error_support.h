// Shared by the unit suites that check which ApiError a call throws.
#pragma once
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "core/api_error.h"

// Runs `fn`, which must throw ApiError; returns it.
template <typename Fn>
core::ApiError expect_api_error(Fn fn) {
    try {
        fn();
    } catch (const core::ApiError& e) {
        return e;
    }
    BOOST_FAIL("expected an ApiError");
    throw std::logic_error("unreachable");
}
